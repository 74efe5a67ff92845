"""Perft: move-generator node counts against published results and against Fairy-Stockfish."""

from __future__ import annotations

import random

import pytest

from xiangqi import STARTING_FEN, Board
from xiangqi.perft import perft, perft_divide

# Counts for depths 1, 2, 3, ... Positions 2-11 are the chessprogramming.org "Chinese Chess
# Perft Results" positions; the last two come from Fairy-Stockfish tests/perft.sh (depth 4 only).
PUBLISHED = [
    pytest.param(STARTING_FEN, [44, 1920, 79666, 3290240, 133312995], id="start"),
    pytest.param("r1ba1a3/4kn3/2n1b4/pNp1p1p1p/4c4/6P2/P1P2R2P/1CcC5/9/2BAKAB2 w",
                 [38, 1128, 43929, 1339047, 53112976], id="midgame-cannons"),
    pytest.param("1cbak4/9/n2a5/2p1p3p/5cp2/2n2N3/6PCP/3AB4/2C6/3A1K1N1 w",
                 [7, 281, 8620, 326201, 10369923], id="in-check-7-replies"),
    pytest.param("5a3/3k5/3aR4/9/5r3/5n3/9/3A1A3/5K3/2BC2B2 w",
                 [25, 424, 9850, 202884, 4739553], id="endgame-chariots"),
    pytest.param("CRN1k1b2/3ca4/4ba3/9/2nr5/9/9/4B4/4A4/4KA3 w",
                 [28, 516, 14808, 395483, 11842230], id="checks-cannon-screen"),
    pytest.param("R1N1k1b2/9/3aba3/9/2nr5/2B6/9/4B4/4A4/4KA3 w",
                 [21, 364, 7626, 162837, 3500505], id="endgame-horse-chariot"),
    pytest.param("C1nNk4/9/9/9/9/9/n1pp5/B3C4/9/3A1K3 w",
                 [28, 222, 6241, 64971, 1914306], id="flying-general-pins"),
    pytest.param("4ka3/4a4/9/9/4N4/p8/9/4C3c/7n1/2BK5 w",
                 [23, 345, 8124, 149272, 3513104], id="endgame-horse-cannon"),
    pytest.param("2b1ka3/9/b3N4/4n4/9/9/9/4C4/2p6/2BK5 w",
                 [21, 195, 3883, 48060, 933096], id="elephant-eyes"),
    pytest.param("1C2ka3/9/C1Nab1n2/p3p3p/6p2/9/P3P3P/3AB4/3p2c2/c1BAK4 w",
                 [30, 830, 22787, 649866, 17920736], id="soldiers-crossed"),
    pytest.param("CnN1k1b2/c3a4/4ba3/9/2nr5/9/9/4C4/4A4/4KA3 w",
                 [19, 583, 11714, 376467, 8148177], id="double-cannon"),
]
FAIRY_DEPTH4 = [
    pytest.param("1rbaka2R/5r3/6n2/2p1p1p2/4P1bP1/PpC3Bc1/1nPR2P2/2N2AN2/1c2K1p2/2BAC4 w - - 0 1",
                 4485547, id="fairy-midgame"),
    pytest.param("4kcP1N/8n/3rb4/9/9/9/9/3p1A3/4K4/5CB2 w - - 0 1", 92741, id="fairy-endgame"),
]


@pytest.mark.parametrize("depth, expected", [(1, 44), (2, 1920), (3, 79666)])
def test_start_position(depth: int, expected: int) -> None:
    assert perft(Board(), depth) == expected


@pytest.mark.slow
def test_start_position_depth_4() -> None:
    assert perft(Board(), 4) == 3290240


@pytest.mark.parametrize("fen, counts", PUBLISHED[1:])
def test_published_positions_shallow(fen: str, counts: list[int]) -> None:
    board = Board(fen)
    # Depth 3 where the tree is small, depth 2 otherwise: a few seconds for the whole list.
    depth = 3 if counts[2] < 15000 else 2
    assert [perft(board, d) for d in range(1, depth + 1)] == counts[:depth]


@pytest.mark.slow
@pytest.mark.parametrize("fen, counts", PUBLISHED[1:])
def test_published_positions_depth_4(fen: str, counts: list[int]) -> None:
    assert perft(Board(fen), 4) == counts[3]


@pytest.mark.slow
@pytest.mark.parametrize("fen, expected", FAIRY_DEPTH4)
def test_fairy_stockfish_positions(fen: str, expected: int) -> None:
    assert perft(Board(fen), 4) == expected


def test_depth_zero_and_negative() -> None:
    assert perft(Board(), 0) == 1
    with pytest.raises(ValueError):
        perft(Board(), -1)
    with pytest.raises(ValueError):
        perft_divide(Board(), 0)


def test_divide_sums_to_perft_and_restores_board() -> None:
    board = Board(PUBLISHED[2].values[0])
    fen = board.fen()
    divide = perft_divide(board, 2)
    assert sum(n for _, n in divide) == 281
    assert sorted(m.uci() for m, _ in divide) == sorted(m.uci() for m in board.legal_moves)
    assert board.fen() == fen and not board.move_stack


# ---------------------------------------------------------------------------
# Cross-check with Fairy-Stockfish (pyffish), which numbers ranks 1..10.

def _to_fairy(uci: str) -> str:
    return f"{uci[0]}{int(uci[1]) + 1}{uci[2]}{int(uci[3]) + 1}"


def _fairy_moves(board: Board) -> list[str]:
    sf = pytest.importorskip("pyffish")
    return sorted(sf.legal_moves("xiangqi", board.fen(), []))


@pytest.mark.parametrize("fen", [STARTING_FEN] + [p.values[0] for p in PUBLISHED[1:] + FAIRY_DEPTH4])
def test_legal_moves_match_pyffish_on_random_playouts(fen: str) -> None:
    rng = random.Random(fen)
    board = Board(fen)
    for _ in range(30):
        ours = sorted(_to_fairy(m.uci()) for m in board.legal_moves)
        assert ours == _fairy_moves(board), board.fen()
        if not ours:
            break
        board.push(rng.choice(board.legal_moves))


def test_divide_matches_pyffish() -> None:
    board = Board(PUBLISHED[6].values[0])
    for move, n in perft_divide(board, 2):
        board.push(move)
        assert n == len(_fairy_moves(board)), move.uci()
        board.pop()
