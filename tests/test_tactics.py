"""The material search of play.tactics: alpha-beta equals plain minimax, and it sees what the
2-ply check does not."""

from __future__ import annotations

import pytest

from play.material import MATE, lead, unsafe_moves
from play.tactics import NodeBudgetExceeded, tactical_scores, tactically_unsafe
from xiangqi import Board, Move

# Middlegame and endgame positions, Black to move, from the search's games against Fairy-Stockfish
# (at most 24 and 12 pieces): searched at depth 0 and 1 against plain minimax.
MIDDLEGAMES = ["2baka3/4n4/5R3/p3R3p/3r5/4P4/P4C2P/9/4K4/1c1r1A3 b - - 1 23",
               "2baka3/4nn3/4b3c/2p5C/p3p3P/2P3P2/P3r4/C3B4/4A4/2BAK4 b - - 1 23",
               "3k1ab2/3Na4/4b4/CP7/2p1N3p/9/8P/B8/4K4/1r3A3 b - - 0 41"]
ENDGAMES = ["1n1a1k3/4a4/9/3P4p/4p4/9/8P/9/4rr3/2cK5 b - - 15 50",
            "2bak4/4a4/9/9/5P3/2p6/3n5/4p1n2/9/3K1Ar2 b - - 3 50",
            "4k4/9/1R2b3b/1P2p4/9/4P3P/9/4B4/5K3/6Cn1 b - - 2 59"]
# A middlegame full of captures and checks: a depth-3 search needs far more than 500 positions.
SHARP = "1rbaka3/4n2R1/4bC1n1/p3R3p/6r2/9/P1P1P3P/2C3c2/4A4/2B1KAB2 b - - 2 14"


def _minimax(board: Board, depth: int, ply: int) -> float:
    """The same score as play.tactics, without pruning: every move ``depth`` plies, then
    captures (every move in check) with standing pat, no more than 8 plies (checkmate at the
    last ply still counts)."""
    return _full(board, depth, ply) if depth > 0 else _quiet(board, 8, ply)


def _full(board: Board, depth: int, ply: int) -> float:
    moves = board.legal_moves
    if not moves:
        return -MATE + ply
    scores = []
    for move in moves:
        board.push(move)
        scores.append(-_minimax(board, depth - 1, ply + 1))
        board.pop()
    return max(scores)


def _quiet(board: Board, plies: int, ply: int) -> float:
    in_check = board.is_check()
    moves = board.legal_moves
    if in_check and not moves:
        return -MATE + ply
    if plies == 0:
        return lead(board, board.turn)
    stand = -MATE + ply if in_check else lead(board, board.turn)
    best = stand
    for move in moves:
        if not in_check and not board.is_capture(move):
            continue
        board.push(move)
        best = max(best, -_quiet(board, plies - 1, ply + 1))
        board.pop()
    return best


CASES = [(0, Board(fen)) for fen in MIDDLEGAMES] + [(1, Board(fen)) for fen in ENDGAMES]


@pytest.mark.parametrize(("depth", "board"), CASES,
                         ids=lambda x: x.fen() if isinstance(x, Board) else f"depth {x}")
def test_scores_equal_plain_minimax_within_the_margin(depth: int, board: Board) -> None:
    """Exact within the margin of the best move; below it an upper bound that is still below."""
    margin = 2.0
    scores = tactical_scores(board, board.legal_moves, depth=depth, margin=margin)
    exact = {}
    for move in board.legal_moves:
        board.push(move)
        exact[move] = -_minimax(board, depth, 1) + 0.0
        board.pop()
    best = max(exact.values())
    assert max(scores.values()) == best
    for move, score in scores.items():
        if exact[move] >= best - margin:
            assert score == exact[move], move
        else:
            assert exact[move] <= score < best - margin, move


# Black to move (a game of the search against Fairy-Stockfish): i6i5 lets Red mate in two
# (Fairy-Stockfish: "score mate 2" after it), which neither the 2-ply check nor one more ply sees.
MATE_IN_TWO_AFTER = "2baka3/4n4/5R3/p3R3p/9/P3P4/5C2P/9/9/c2K5 b - - 0 28"


def test_a_mate_two_moves_on_is_seen_by_the_deeper_search() -> None:
    board = Board(MATE_IN_TWO_AFTER)
    blunder = Move.from_uci("i6i5")
    assert blunder not in unsafe_moves(board, 2.0)
    assert blunder not in tactically_unsafe(board, 1, 2.0, 10**6)
    assert blunder in tactically_unsafe(board, 2, 2.0, 10**6)
    assert tactical_scores(board, [blunder], depth=2)[blunder] <= -MATE + 10


def _fits(board: Board, depth: int, budget: int) -> bool:
    try:
        tactical_scores(board, board.legal_moves, depth, 2.0, budget)
    except NodeBudgetExceeded:
        return False
    return True


def test_a_budget_too_small_falls_back_to_the_shallower_depth() -> None:
    board = Board(MATE_IN_TWO_AFTER)
    budget = next(n for n in (250, 500, 1000, 2000, 4000, 8000, 16000)
                  if _fits(board, 1, n) and not _fits(board, 2, n))
    assert tactically_unsafe(board, 2, 2.0, budget) == tactically_unsafe(board, 1, 2.0, 10**6)
    assert Move.from_uci("i6i5") not in tactically_unsafe(board, 2, 2.0, budget)
    assert tactically_unsafe(board, 2, 2.0, max_nodes=10) == set()  # not even depth 1 fits


def test_mate_is_worse_than_any_material() -> None:
    """Black to move: the advisor move e8f9 lets Red mate with h2h8, which the material search
    scores as a mate, below every loss of material."""
    board = Board("9/4ak3/4br3/p8/9/2P2np2/P4p3/B6R1/3r5/4K4 b - - 5 58")
    scores = tactical_scores(board, board.legal_moves, depth=1)
    mated = Move.from_uci("e8f9")
    assert scores[mated] == -MATE + 2 and min(scores.values()) == scores[mated]
    assert mated in unsafe_moves(board) and mated in tactically_unsafe(board, 1, 2.0, 10**6)


def test_a_stopped_search_leaves_the_board_as_it_was() -> None:
    board = Board(SHARP)
    for _ in range(2):  # a history, which the search must leave as it was
        board.push(board.legal_moves[0])
    fen, moves = board.fen(), list(board.move_stack)
    fresh = Board(SHARP)
    for move in moves:
        fresh.push(move)
    with pytest.raises(NodeBudgetExceeded):
        tactical_scores(board, board.legal_moves, depth=3, max_nodes=500)
    assert board.fen() == fen and board.move_stack == moves
    assert board.zobrist_hash() == fresh.zobrist_hash()
    assert board.repetition_count() == fresh.repetition_count()
    assert [(m, board.gives_check(m)) for m in board.legal_moves] == [
        (m, fresh.gives_check(m)) for m in fresh.legal_moves]
