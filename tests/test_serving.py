"""Model serving (server/serving.py): every game its own search over shared networks, so that the
searches of concurrent ``expert`` games run side by side on one worker."""

from __future__ import annotations

import random
import threading

from play.search import Limits
from server.serving import ServedModel
from xiangqi import Board


def test_each_game_has_its_own_search_over_shared_networks(shipped_policy) -> None:
    model = ServedModel(shipped_policy, "shipped", searched_games=2)
    first, second = model.search(1), model.search(2)
    assert first is not second and first.networks is second.networks is model.networks()
    assert model.search(1) is first  # kept for the game's next move
    model.search(3)  # the game searched longest ago is forgotten: game 2
    assert model.search(1) is first and model.search(2) is not second
    assert model.search(None) is not model.search(None)  # a game not stored yet


def test_an_expert_move_does_not_wait_for_another_games_search(shipped_policy) -> None:
    """Game 1's search runs until it is stopped; game 2's expert move (1 s of search) comes while
    it still runs. With one search per process behind one lock it would wait for ever."""
    model = ServedModel(shipped_policy, "shipped")
    board = Board()
    board.push_uci("h2e2")
    other = model.search(1)
    thread = threading.Thread(target=other.run, args=(board, Limits(infinite=True)), daemon=True)
    thread.start()
    try:
        move, reply = model.reply(Board(), "expert", random.Random(0), game_id=2)
        assert thread.is_alive()  # game 1 is still searching
        assert Board().is_legal(move) and reply.move == move.uci()
        assert model.search(2).root_board is not None  # game 2's tree is kept for its next move
    finally:
        other.stop.set()
        thread.join()
    assert other.root_board is not None and other.root_board.move_stack == board.move_stack
