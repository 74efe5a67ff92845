"""Mates by checks (play.mates): the same answers as a brute force over the public Board API, on
composed problems and on a position where the search walked into a mate against Fairy-Stockfish."""

from __future__ import annotations

import pytest
from test_search import MATES, small_policy, small_value

from play.mates import checking_mate, moves_allowing_mate
from play.search import Limits, Networks, Search, SearchConfig
from play.tactics import NodeBudgetExceeded, tactically_unsafe
from xiangqi import Board, Move

# From an arena game of the search against Fairy-Stockfish (Skill Level 3): Red played c2c1 here
# and Black mated by checks, d1e1 e0d0 f1f0; Fairy-Stockfish (depth 8) saw the mate after c2c1.
WALKED_INTO_MATE = "4kab2/4a4/2P1b4/7R1/p6PP/4R4/9/N1C1B2C1/3rAr3/2B1K2c1 w - - 3 31"


def mates_by_checks(board: Board, moves: int) -> bool:
    """The side to move mates within ``moves`` moves, giving check with each, by brute force."""
    for move in board.legal_moves:
        board.push(move)
        try:
            if board.is_check():
                replies = board.legal_moves
                if not replies or (moves > 1 and all(_mated_after(board, r, moves - 1) for r in replies)):
                    return True
        finally:
            board.pop()
    return False


def _mated_after(board: Board, reply: Move, moves: int) -> bool:
    board.push(reply)
    try:
        return mates_by_checks(board, moves)
    finally:
        board.pop()


@pytest.mark.parametrize(("n", "fen"), [(n, fen) for n, fens in MATES.items() for fen in fens if n > 1])
def test_the_shortest_mate_by_checks_is_found(n: int, fen: str) -> None:
    board = Board(fen, strict=False)
    line = checking_mate(board, 5)
    assert line is not None and len(line) == 2 * n - 1
    assert not mates_by_checks(board.copy(), n - 1)
    for i, move in enumerate(line):
        assert board.is_legal(move)
        board.push(move)
        if i % 2 == 0:
            assert board.is_check()
    assert board.is_checkmate()


def test_no_mate_by_checks_from_the_start_position() -> None:
    assert checking_mate(Board(), 3) is None


def test_the_moves_that_allow_a_mate_by_checks_are_the_brute_force_ones() -> None:
    board = Board(WALKED_INTO_MATE)
    moves = board.legal_moves
    allowing = moves_allowing_mate(board, moves, 3, max_nodes=1_000_000)
    assert Move.from_uci("c2c1") in allowing and len(allowing) < len(moves)
    for move in moves:
        board.push(move)
        assert mates_by_checks(board, 3) == (move in allowing), move.uci()
        board.pop()
    assert board.fen() == WALKED_INTO_MATE


def test_the_node_budget() -> None:
    with pytest.raises(NodeBudgetExceeded):
        checking_mate(Board(MATES[3][0], strict=False), 5, max_nodes=10)
    board = Board(WALKED_INTO_MATE)
    moves = board.legal_moves
    # over budget, what was proven so far is kept
    assert moves_allowing_mate(board, moves, 5, max_nodes=200) < moves_allowing_mate(board, moves, 5, 100_000)


def test_the_search_root_leaves_out_the_moves_that_allow_a_mate() -> None:
    board = Board(WALKED_INTO_MATE)
    search = Search(Networks(small_policy(), small_value()))
    search.run(board, Limits(nodes=16))
    kept = {child.move for child in search.root.children}
    assert kept and not kept & moves_allowing_mate(board, board.legal_moves, 5, 100_000)
    without = Search(Networks(small_policy(), small_value()), SearchConfig(mate_moves=0))
    without.run(board, Limits(nodes=16))
    assert Move.from_uci("c2c1") in {child.move for child in without.root.children}


def test_the_search_plays_a_mate_by_checks_at_once() -> None:
    board = Board(MATES[3][0], strict=False)
    result = Search(Networks(small_policy(), small_value())).run(board, Limits(nodes=3000))
    assert result.nodes == 0 and result.lines[0].score == "mate 3"
    assert [m.uci() for m in result.lines[0].pv] == [m.uci() for m in checking_mate(board, 5)]


def test_the_search_gives_up_material_rather_than_the_game() -> None:
    # From the search's arena games against Fairy-Stockfish (Skill Level 3): only e9e6 escapes a
    # mate by checks, and it loses material; the search played e9e8 and was mated.
    board = Board("2bkc1b2/3c2C2/3R5/p2R2p1p/4p4/9/P1P1r3P/N1r1B4/4A4/2BAK4 b - - 2 19")
    escape = Move.from_uci("e9e6")
    allowing = moves_allowing_mate(board, board.legal_moves, 5, 10**6)
    assert [m for m in board.legal_moves if m not in allowing] == [escape]
    assert escape in tactically_unsafe(board, 2, 2.0, 10**6)
    assert Search(Networks(small_policy(), small_value())).run(board, Limits(nodes=16)).best == escape
