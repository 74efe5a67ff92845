"""Composed positions: placements no game reaches load with ``strict=False`` and are reported by
``status()`` / ``is_valid()``; placements that cannot be played are refused either way."""

from __future__ import annotations

import pytest

from xiangqi import Board, InvalidFenError, Move

# A black soldier on Black's own back rank, as in some folk (江湖) problems; Red to move.
BACK_RANK_SOLDIER = "3k1p3/9/9/9/9/9/9/9/4R4/4K4 w - - 0 1"


def test_strict_board_refuses_a_soldier_on_its_back_rank() -> None:
    with pytest.raises(InvalidFenError, match="black soldier on f9 cannot be reached"):
        Board(BACK_RANK_SOLDIER)


def test_composed_position_loads_plays_and_reports_itself() -> None:
    board = Board(BACK_RANK_SOLDIER, strict=False)
    assert board.fen() == BACK_RANK_SOLDIER
    assert not board.is_valid()
    assert board.status() == ["black soldier on f9 cannot be reached by a soldier"]
    board.push_uci("e1e8")
    assert Move.from_uci("f9f8") in board.legal_moves  # the soldier moves forward as any soldier
    assert Move.from_uci("f9e9") not in board.legal_moves  # and not sideways on its own side


def test_too_many_pieces_are_reported() -> None:
    board = Board("3k5/9/9/9/9/9/9/9/RRR6/4K4 w", strict=False)
    assert board.status() == ["red has 3 chariots, at most 2 allowed"]


def test_a_game_position_is_valid() -> None:
    board = Board()
    assert board.is_valid() and board.status() == []


@pytest.mark.parametrize(("fen", "message"), [
    ("3p5/9/9/9/9/9/9/9/9/4K4 w", "black must have exactly one general, found 0"),
    ("3kk4/9/9/9/9/9/9/9/9/3K5 w", "black must have exactly one general, found 2"),
    ("4k4/9/9/9/9/9/9/9/K8/9 w", "red general on a1 is outside the palace"),
    ("4k4/9/9/9/9/9/9/9/3A5/3K5 w", "red advisor on d1 is not on an advisor point"),
    ("4k4/9/9/9/9/9/9/9/9/4K4 w", "the generals face each other"),
    ("4k3R/9/9/9/9/9/9/9/9/3K5 w", "the side not to move (black) is in check"),
])
def test_unplayable_positions_are_refused_even_when_not_strict(fen: str, message: str) -> None:
    with pytest.raises(InvalidFenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Board(fen, strict=False)
