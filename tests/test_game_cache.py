"""server.play.GameCache: the boards and move records kept between requests answer exactly what
a replay from the stored moves answers, whatever state the cache is in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from server.db import StoredGame
from server.play import GameCache, move_record
from server.schemas import MoveRecord
from xiangqi import STARTING_FEN, Board, IllegalMoveError, Move
from xiangqi.pgn import replay

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def random_moves(n: int, seed: int) -> list[str]:
    rng, board = random.Random(seed), Board()
    while len(board.move_stack) < n and board.outcome() is None:
        board.push(rng.choice(board.legal_moves))
    return [m.uci() for m in board.move_stack]


def stored(moves: list[str], game_id: int = 1, start_fen: str = STARTING_FEN) -> StoredGame:
    return StoredGame(id=game_id, created_at=NOW, updated_at=NOW, start_fen=start_fen, moves=moves,
                      human_side="red", level="master", result="*", termination=None)


def fresh_records(game: StoredGame) -> list[MoveRecord]:
    walk = Board(game.start_fen)
    out = []
    for text in game.moves:
        move = Move.from_uci(text)
        out.append(move_record(walk, move))
        walk.push(move)
    return out


def assert_served_like_a_replay(cache: GameCache, game: StoredGame) -> None:
    board = cache.board(game)
    expected = replay(game.start_fen, game.moves)
    assert board.fen() == expected.fen() and board.move_stack == expected.move_stack
    assert board.zobrist_hash() == expected.zobrist_hash() and board.outcome() == expected.outcome()
    assert cache.records(game, board) == fresh_records(game)


def test_every_step_of_a_game_played_on_and_taken_back_matches_a_replay():
    cache, moves = GameCache(), random_moves(60, seed=1)
    for n in [0, 1, 3, 5, 6, 20, 18, 16, 40, 60, 2, 60]:  # on, back, on again
        assert_served_like_a_replay(cache, stored(moves[:n]))


def test_a_request_describes_only_the_moves_its_game_gained():
    cache, moves = GameCache(), random_moves(22, seed=6)
    before = cache.records(stored(moves[:20]), cache.board(stored(moves[:20])))
    after = cache.records(stored(moves), cache.board(stored(moves)))
    assert all(a is b for a, b in zip(before, after[:20], strict=True))


def test_an_entry_of_another_game_with_the_same_id_is_not_trusted():
    cache = GameCache()
    first, second = random_moves(40, seed=2), random_moves(40, seed=3)
    assert_served_like_a_replay(cache, stored(first))
    assert_served_like_a_replay(cache, stored(second))  # another database's game 1
    other_start = "4k4/9/9/9/9/9/9/9/9/3K5 w - - 0 1"
    assert_served_like_a_replay(cache, stored(["d0d1"], start_fen=other_start))
    assert_served_like_a_replay(cache, stored(second[:30]))


def test_a_bad_move_after_the_cached_ones_names_its_index():
    cache, moves = GameCache(), random_moves(20, seed=4)
    assert_served_like_a_replay(cache, stored(moves[:10]))
    with pytest.raises(IllegalMoveError, match=r"moves\[10\]"):
        cache.board(stored(moves[:10] + ["a0a9"]))


def test_the_least_recently_served_games_are_forgotten():
    cache, moves = GameCache(size=2), random_moves(10, seed=5)
    for game_id in (1, 2, 3):
        game = stored(moves, game_id)
        cache.records(game, cache.board(game))
    assert list(cache._entries) == [2, 3]
    assert_served_like_a_replay(cache, replace(stored(moves), id=1))
