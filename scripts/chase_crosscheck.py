"""Cross-check the repetition verdicts (perpetual check and chase) with pyffish (Fairy-Stockfish).

Two samples, each judged by ``Board.outcome()`` and by ``pyffish.is_optional_game_end``:

* ``cycles``: random positions with the generals and one to four other pieces a side; for each,
  up to 24 back-and-forth cycles (a quiet move of each side, then both taken back, played twice),
  preferring moves that chase;
* ``playouts``: games from the start position in which each side mostly takes back its own last
  move, else plays a quiet move (half the time a chasing one), up to the first threefold repetition.

Prints the counts of (termination, agreement) and every disagreement (FEN, moves, both verdicts);
the last line is the counts as JSON. docs/chase.md quotes::

    python scripts/chase_crosscheck.py cycles --seed 4 --n 3000   # and seeds 5, 6
    python scripts/chase_crosscheck.py playouts --seed 3 --n 1500
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter

import pyffish

from xiangqi import STARTING_FEN, Board, InvalidFenError, Move, Outcome
from xiangqi.chase import chased

PIECES = "RRNNCCAABBPPP"


def fsf_winner(fen: str, moves: list[str]) -> str | None:
    """``red``, ``black``, ``draw`` or ``None`` (not over) by pyffish after ``moves`` (ICCS)."""
    ranks_from_one = [m[0] + str(int(m[1]) + 1) + m[2] + str(int(m[3]) + 1) for m in moves]
    over, value = pyffish.is_optional_game_end("xiangqi", fen, ranks_from_one)
    if not over:
        return None
    red_to_move = (fen.split()[1] == "w") == (len(moves) % 2 == 0)
    if value == 0:
        return "draw"
    return "red" if (value > 0) == red_to_move else "black"


def winner(outcome: Outcome) -> str:
    return "draw" if outcome.winner is None else ("red" if outcome.winner else "black")


def random_fen(rng: random.Random) -> str:
    grid: dict[tuple[int, int], str] = {}
    grid[(rng.randint(3, 5), rng.randint(0, 2))] = "K"
    grid[(rng.randint(3, 5), rng.randint(7, 9))] = "k"
    for upper in (True, False):
        for letter in rng.sample(PIECES, rng.randint(1, 4)):
            grid.setdefault((rng.randrange(9), rng.randrange(10)), letter if upper else letter.lower())
    rows = []
    for r in range(9, -1, -1):
        row = "".join(grid.get((f, r), "1") for f in range(9))
        for n in range(9, 1, -1):
            row = row.replace("1" * n, str(n))
        rows.append(row)
    return "/".join(rows) + " " + rng.choice("wb") + " - - 0 1"


def quiet_moves(board: Board, rng: random.Random, keep: int) -> list[Move]:
    """Up to ``keep`` non-captures, the chasing ones first (two at most), in random order."""
    moves = [m for m in board.legal_moves if not board.is_capture(m)]
    rng.shuffle(moves)
    chasing = [m for m in moves if chased(board, m)][:2]
    return (chasing + [m for m in moves if m not in chasing])[:keep]


def judge(fen: str, moves: list[str], counts: Counter, disagreements: list) -> None:
    """Play ``moves`` from ``fen``; at a repetition verdict, compare it with pyffish's."""
    board = Board(fen)
    outcome = None
    for text in moves:
        board.push_uci(text)
        outcome = board.outcome()
        if outcome is not None:
            break
    if outcome is None or board.repetition_count() < board.repetitions:
        return
    played = moves[:len(board.move_stack)]
    theirs = fsf_winner(fen, played)
    ours = winner(outcome)
    counts[f"{outcome.termination.value} {'agree' if ours == theirs else 'differ'}"] += 1
    if ours != theirs:
        disagreements.append((fen, " ".join(played), ours, theirs))


def cycles(rng: random.Random, n: int, counts: Counter, disagreements: list) -> None:
    for _ in range(n):
        try:
            board = Board(random_fen(rng))
        except InvalidFenError:
            continue
        if board.outcome() is not None:
            continue
        fen = board.fen()
        for first in quiet_moves(board, rng, 6):
            board.push(first)
            for second in quiet_moves(board, rng, 4):
                board.push(second)
                back = [Move(m.to_square, m.from_square) for m in (first, second)]
                if board.is_legal(back[0]):
                    board.push(back[0])
                    if board.is_legal(back[1]):
                        judge(fen, [m.uci() for m in (first, second, *back)] * 2, counts, disagreements)
                    board.pop()
                board.pop()
            board.pop()


def playouts(rng: random.Random, n: int, counts: Counter, disagreements: list) -> None:
    for _ in range(n):
        board = Board()
        last: dict[bool, Move | None] = {True: None, False: None}
        for _ in range(300):
            if board.outcome() is not None:
                break
            previous = last[board.turn]
            back = Move(previous.to_square, previous.from_square) if previous else None
            if back and rng.random() < 0.7 and board.is_legal(back):
                move = back
            else:
                quiet = [m for m in board.legal_moves if not board.is_capture(m)] or board.legal_moves
                chasing = [m for m in quiet if chased(board, m)] if rng.random() < 0.5 else []
                move = rng.choice(chasing or quiet)
            last[board.turn] = move
            board.push(move)
        if board.outcome() is not None:
            judge(STARTING_FEN, [m.uci() for m in board.move_stack], counts, disagreements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sample", choices=("cycles", "playouts"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=300, help="random positions or games")
    args = parser.parse_args()
    counts: Counter = Counter()
    disagreements: list = []
    (cycles if args.sample == "cycles" else playouts)(random.Random(args.seed), args.n, counts, disagreements)
    for row in disagreements:
        print(*row, sep=" | ")
    print(json.dumps(dict(sorted(counts.items()))))


if __name__ == "__main__":
    main()
