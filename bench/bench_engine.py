"""Benchmark the rules engine against cchess (pure Python) and pyffish (C++, for reference).

Measures perft nodes per second (leaf counting, the same bulk-counting scheme for every
engine) and the latency of ``legal_mask()``. Prints a Markdown table and writes
``bench/engine.png``. Run: ``.venv/bin/python bench/bench_engine.py`` (about a minute).
"""

from __future__ import annotations

import time
from pathlib import Path

import cchess
import matplotlib
import pyffish

from xiangqi import Board
from xiangqi.perft import perft

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

POSITIONS = {
    "start": "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w - - 0 1",
    "midgame": "r1ba1a3/4kn3/2n1b4/pNp1p1p1p/4c4/6P2/P1P2R2P/1CcC5/9/2BAKAB2 w - - 0 1",
    "endgame": "5a3/3k5/3aR4/9/5r3/5n3/9/3A1A3/5K3/2BC2B2 w - - 0 1",
}
OUT = Path(__file__).with_name("engine.png")


def timed(fn, min_seconds: float = 1.0) -> tuple[int, float]:
    """Run ``fn`` (which returns a node count) until ``min_seconds`` pass; (nodes, seconds)."""
    nodes, start = 0, time.perf_counter()
    while True:
        nodes += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return nodes, elapsed


def cchess_legal(board: cchess.ChessBoard) -> list:
    return [m for m in board.create_moves()
            if board.is_valid_move_t(m) and not board.is_checked_move(*m)]


def cchess_perft(board: cchess.ChessBoard, depth: int) -> int:
    moves = cchess_legal(board)
    if depth == 1:
        return len(moves)
    n = 0
    for frm, to in moves:
        child = board.copy()
        child._move_piece(frm, to)
        child.next_turn()
        n += cchess_perft(child, depth - 1)
    return n


def pyffish_perft(fen: str, depth: int, moves: tuple[str, ...] = ()) -> int:
    legal = pyffish.legal_moves("xiangqi", fen, list(moves))
    if depth == 1:
        return len(legal)
    return sum(pyffish_perft(fen, depth - 1, moves + (m,)) for m in legal)


def main() -> None:
    rows = []
    for name, fen in POSITIONS.items():
        ours_n, ours_t = timed(lambda fen=fen: perft(Board(fen), 3), 2.0)
        cc_n, cc_t = timed(lambda fen=fen: cchess_perft(cchess.ChessBoard(fen), 2), 2.0)
        sf_n, sf_t = timed(lambda fen=fen: pyffish_perft(fen, 2), 1.0)
        board = Board(fen)
        calls, mask_t = timed(lambda board=board: board.legal_mask() is not None, 0.5)
        rows.append((name, ours_n / ours_t, cc_n / cc_t, sf_n / sf_t, mask_t / calls * 1e6))

    print("| position | xiangqi nodes/s (perft 3) | cchess nodes/s (perft 2) | speed-up vs cchess "
          "| pyffish nodes/s (perft 2) | legal_mask() µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ours, cc, sf, mask_us in rows:
        print(f"| {name} | {ours:,.0f} | {cc:,.0f} | {ours / cc:.0f}× | {sf:,.0f} | {mask_us:.0f} |")

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.27
    xs = range(len(rows))
    for k, (label, col) in enumerate((("xiangqi", 1), ("cchess", 2), ("pyffish", 3))):
        ax.bar([x + (k - 1) * width for x in xs], [r[col] for r in rows], width, label=label)
    ax.set_yscale("log")
    ax.set_xticks(list(xs), [r[0] for r in rows])
    ax.set_ylabel("perft nodes / second (log scale)")
    ax.set_title("Move generation speed")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT, dpi=120)
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
