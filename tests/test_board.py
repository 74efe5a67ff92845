"""Board basics and the movement rules of each piece."""

from __future__ import annotations

import pytest

from xiangqi import BLACK, CANNON, RED, Board, IllegalMoveError, Move, Piece, parse_square


def targets(fen: str, square: str) -> set[str]:
    """Destination squares of the legal moves from ``square``."""
    frm = parse_square(square)
    return {m.uci()[2:] for m in Board(fen).legal_moves if m.from_square == frm}


def test_start_position() -> None:
    board = Board()
    assert board.turn == RED and len(board.legal_moves) == 44
    assert board.piece_at(parse_square("b2")) == Piece(CANNON, RED)
    assert board.piece_at(parse_square("e5")) is None
    assert board.king(BLACK) == parse_square("e9")


def test_push_pop_and_history() -> None:
    board = Board()
    move = board.push_uci("h2e2")
    assert board.turn == BLACK and board.peek() == move and board.halfmove_clock == 1
    board.push_uci("h9g7")
    assert board.fullmove_number == 2
    assert board.root() == Board() and len(board.copy().move_stack) == 2
    assert board.pop() == Move.from_uci("h9g7") and board.pop() == move
    assert board.fen() == Board().fen()
    with pytest.raises(IndexError):
        board.pop()


def test_illegal_push_is_refused() -> None:
    board = Board()
    for uci in ("a0a5", "e0d0", "h9g7", "b2b8"):
        with pytest.raises(IllegalMoveError, match="illegal move"):
            board.push_uci(uci)
    assert board.fen() == Board().fen()


def test_general_and_advisor_stay_in_the_palace() -> None:
    assert targets("5k3/9/9/9/9/9/9/9/9/3K5 w", "d0") == {"d1", "e0"}
    assert targets("4k4/9/9/9/9/9/9/3A5/4A4/3K5 w", "e1") == {"f0", "f2"}


def test_elephant_stays_home_and_is_blocked_at_the_eye() -> None:
    assert targets("4k4/9/9/9/9/2B6/9/9/9/3K5 w", "c4") == {"a2", "e2"}
    assert targets("5k3/9/9/9/9/9/9/9/3K5/2B6 w", "c0") == {"a2"}


def test_horse_is_blocked_at_the_leg() -> None:
    assert targets("4k4/9/9/9/9/9/9/9/9/1N1K5 w", "b0") == {"a2", "c2", "d1"}
    assert targets("4k4/9/9/9/9/9/9/9/1C7/1N1K5 w", "b0") == {"d1"}


def test_soldier_moves_sideways_only_after_the_river() -> None:
    assert targets("4k4/9/9/9/9/9/4P4/9/9/3K5 w", "e3") == {"e4"}
    assert targets("4k4/9/9/9/4P4/9/9/9/9/3K5 w", "e5") == {"e6", "d5", "f5"}
    assert targets("4P4/5k3/9/9/9/9/9/9/9/3K5 w", "e9") == {"d9", "f9"}


def test_cannon_needs_exactly_one_screen_to_capture() -> None:
    fen = "3k5/9/9/9/1r7/9/1p7/9/9/1C2K4 w"
    assert targets(fen, "b0") == {"a0", "c0", "d0", "b1", "b2", "b5"}


def test_flying_general_pins_and_forbids_facing() -> None:
    # The red cannon on e4 is the only piece between the generals: it may only move on the file.
    assert targets("4k4/9/9/9/9/4C4/9/9/9/4K4 w", "e4") == {"e5", "e6", "e7", "e8", "e3", "e2", "e1"}
    # The general may not step onto the open file of the other general.
    assert targets("3k5/9/9/9/9/9/9/9/9/4K4 w", "e0") == {"e1", "f0"}


def test_check_detection() -> None:
    board = Board("4k4/9/9/9/9/9/9/9/9/3K4R w")
    assert not board.is_check()
    assert board.gives_check(Move.from_uci("i0i9"))
    assert not board.gives_check(Move.from_uci("i0i8"))
    assert board.is_capture(Move.from_uci("i0i9")) is False
