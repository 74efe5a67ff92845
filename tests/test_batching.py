"""Batched inference: a batched answer equals the unbatched one, and one request's error never
fails its batch neighbours."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from model.batching import Batcher
from model.network import ModelConfig, MoveGPT
from model.policy import Policy
from xiangqi import Board


def _positions(games, plies: list[int]) -> list[Board]:
    """Positions of the fixture games after the given numbers of plies (one per game)."""
    boards = []
    for game, n in zip(games, plies, strict=False):
        board = game.board()
        for move in game.moves[:min(n, len(game.moves))]:
            board.push(move)
        boards.append(board)
    return boards


def _probabilities(policy: Policy, board: Board) -> dict:
    return {m.uci(): p for m, p in policy.candidates(board)}


def _close(a: dict, b: dict, atol: float) -> bool:
    return a.keys() == b.keys() and all(abs(a[m] - b[m]) <= atol for m in a)


@pytest.mark.parametrize("mirror_average", [False, True])
def test_batched_scores_equal_one_at_a_time(fixture_games, mirror_average):
    """Games of different lengths (different cache lengths, some past the 16-position window)
    and search windows in one forward pass, on top of warm KV caches and without them."""
    torch.manual_seed(0)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=16))
    batched = Policy(model, mirror_average=mirror_average)
    alone = Policy(model, mirror_average=mirror_average)
    boards = _positions(fixture_games, [0, 1, 5, 14, 15, 16, 23, 40])
    for _ in range(3):  # cold caches, then caches one and two plies behind
        requests = [(b, None) for b in boards] + [(b, 4) for b in boards[::2]]
        together = batched._scores(requests)
        for request, scores in zip(requests, together, strict=True):
            alone.clear_cache()
            expected = alone._scores([request])[0]
            assert np.allclose(np.exp(scores), np.exp(expected), atol=1e-5)
        for board, game in zip(boards, fixture_games, strict=False):
            if len(board.move_stack) < len(game.moves):
                board.push(game.moves[len(board.move_stack)])


def test_concurrent_calls_share_a_pass_and_match_the_shipped_policy(shipped_policy, fixture_games):
    """Threads asking the shipped model at once get one forward pass between them and the same
    probabilities as one at a time (to the precision of its bf16 int8 matrix products)."""
    boards = _positions(fixture_games, [0, 7, 30, 61])
    expected = []
    for board in boards:
        shipped_policy.clear_cache()
        expected.append(_probabilities(shipped_policy, board))
    policy = Policy(shipped_policy.model, mirror_average=shipped_policy.mirror_average)
    policy.batch_calls(max_batch=len(boards), max_wait=30.0)  # waits until all have asked
    sizes = []
    run = policy._batcher.run
    policy._batcher.run = lambda requests: sizes.append(len(requests)) or run(requests)
    got = [None] * len(boards)

    def ask(i: int) -> None:
        got[i] = _probabilities(policy, boards[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(boards))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sizes == [len(boards)]
    for a, b in zip(got, expected, strict=True):
        assert _close(a, b, atol=0.02)


def test_an_error_reaches_only_its_own_caller(fixture_games):
    torch.manual_seed(0)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=16))
    boards = _positions(fixture_games, [3, 9, 20])
    expected = [_probabilities(Policy(model), b) for b in boards]
    policy = Policy(model)
    policy.batch_calls(max_batch=len(boards) + 1, max_wait=30.0)
    got: list = [None] * (len(boards) + 1)

    def ask(i: int) -> None:
        try:
            got[i] = (_probabilities(policy, boards[i]) if i < len(boards)
                      else policy._score([("not a board", None)]))
        except AttributeError as e:
            got[i] = e

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(boards) + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(got[-1], AttributeError)
    for a, b in zip(got, expected, strict=False):
        assert _close(a, b, atol=1e-5)


def test_batcher_runs_whole_calls_up_to_max_batch():
    seen: list[list[int]] = []
    release = threading.Event()

    def run(items: list[int]) -> list[int]:
        release.wait()
        seen.append(items)
        return [2 * x for x in items]

    batcher = Batcher(run, max_batch=4, max_wait=0.0)
    results: dict[int, list[int]] = {}
    calls = [[1], [2, 3], [4, 5], [6]]
    threads = [threading.Thread(target=lambda c=c: results.update({c[0]: batcher.submit(c)})) for c in calls]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert {k: v for k, v in results.items()} == {c[0]: [2 * x for x in c] for c in calls}
    assert sorted(x for batch in seen for x in batch) == [1, 2, 3, 4, 5, 6]
    assert all(len(batch) <= 4 for batch in seen)
    assert batcher.submit([]) == []
    with pytest.raises(ValueError):
        Batcher(run, max_batch=0)
