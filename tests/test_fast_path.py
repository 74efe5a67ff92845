"""The board's fast path (move codes, captures, make/unmake) keeps its documented contract: the
position is exact between ``make_code`` and ``unmake_code``, the game's history untouched."""

from __future__ import annotations

from hypothesis import given
from test_properties import PLAYOUT, playouts

from xiangqi import Board, Move

# Red in check from the chariot on e5: the one capture that evades is the chariot's a5e5.
IN_CHECK = "3k5/9/9/9/R3r4/9/9/9/9/4K4 w - - 0 1"


def captures(board: Board) -> list[int]:
    """The codes of the legal moves that take a piece, the slow way."""
    return sorted(m.code for m in board.legal_moves if board.is_capture(m))


def test_move_codes() -> None:
    move = Move.from_uci("h2e2")
    assert move.code == move.from_square * 90 + move.to_square and Move.from_code(move.code) == move
    board = Board()
    assert board.legal_move_codes() == [m.code for m in board.legal_moves]
    assert sorted(board.legal_capture_codes()) == captures(board) == sorted(
        Move.from_uci(m).code for m in ("b2b9", "h2h9"))  # the cannons take the horses


def test_captures_in_check_are_evasions() -> None:
    board = Board(IN_CHECK)
    assert board.is_check()
    assert sorted(board.legal_capture_codes()) == captures(board) == [Move.from_uci("a5e5").code]


@PLAYOUT
@given(playouts())
def test_make_and_unmake_keep_the_contract(board: Board) -> None:
    fen, stack, history = board.fen(), list(board.move_stack), board.repetition_count()
    zobrist = board.zobrist_hash()
    codes = board.legal_move_codes()
    assert codes == [m.code for m in board.legal_moves]
    assert sorted(board.legal_capture_codes()) == captures(board)
    for code in codes:
        pushed = board.copy()
        pushed.push(Move.from_code(code))
        board.make_code(code)
        # the position is exact: the same as after push
        assert board.fen() == pushed.fen() and board.zobrist_hash() == pushed.zobrist_hash()
        assert board.is_check() == pushed.is_check()
        assert board.legal_move_codes() == [m.code for m in pushed.legal_moves]
        assert sorted(board.legal_capture_codes()) == captures(pushed)
        # the history is not: the move is not on the stack
        assert board.move_stack == stack
        board.unmake_code()
        assert board.fen() == fen and board.zobrist_hash() == zobrist
    assert board.move_stack == stack and board.repetition_count() == history
