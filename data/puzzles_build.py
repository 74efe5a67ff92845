"""Build a verified puzzle set from composed problems (``xqgpt data puzzles``).

Every position of the records (the set-up position of each problem; XQF, PGN or any format
:func:`xiangqi.records.read_any` reads) is searched by a UCI engine (Fairy-Stockfish, ``UCI_Variant
xiangqi``) with two lines (MultiPV 2). A position is kept when, at the same fixed depth:

- the side to move mates in at most ``max_mate`` moves;
- at each of the solver's turns the engine's best move mates and the second best neither mates
  nor wins decisively (at most ``ALTERNATIVE_CP`` centipawns): the move is the only winning one;
- the defender's replies are the engine's best moves;

and the line ends in checkmate (or a position without a legal move, a loss in xiangqi). The
puzzle is the line; its themes are ``mateN`` and the piece that mates (``mate-by-chariot``...).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from xiangqi import PIECE_TYPES, Board, Move
from xiangqi.engine import EngineSpec, Limit, Mate, Score, UciClient, parse_move_text, parse_score
from xiangqi.pgn import PgnError
from xiangqi.records import read_any

from .dataset import iter_sources

ALTERNATIVE_CP = 200  # a second move scoring more than this is a second way to win
DEFAULT_ENGINE = "/usr/games/fairy-stockfish?UCI_Variant=xiangqi&Threads=1&Hash=32"
PIECE_NAMES = {p: n for p, n in zip(PIECE_TYPES, ("general", "advisor", "elephant", "horse", "chariot",
                                                  "cannon", "soldier"), strict=True)}


class MultiPvClient(UciClient):
    """A UCI client that reads every line of a MultiPV search."""

    multipv = 1

    def lines(self, board: Board, limit: Limit, multipv: int = 2) -> list[tuple[Score, Move]]:
        """The engine's ``multipv`` best lines, best first: the score for the side to move and the
        first move of each, as the last ``info`` line of each rank said."""
        if multipv != self.multipv:
            self._send(f"setoption name MultiPV value {multipv}")
            self.multipv = multipv
        best: dict[int, tuple[Score, Move]] = {}
        for line in self._go(board, limit):
            words = line.split()
            if words[:1] != ["info"] or "score" not in words or "pv" not in words:
                continue
            score = parse_score(words[words.index("score") + 1:])
            rank = int(words[words.index("multipv") + 1]) if "multipv" in words else 1
            if score is not None and self.dialect is not None:
                best[rank] = (score, parse_move_text(words[words.index("pv") + 1], self.dialect))
        return [best[k] for k in sorted(best)]


def _over(board: Board) -> bool:
    return not board.legal_moves


def solve(engine: MultiPvClient, board: Board, limit: Limit, max_mate: int,
          screen: Limit | None = None) -> list[Move] | None:
    """The verified line of a puzzle from ``board`` (the solver to move), or None when the
    position is not a puzzle (see the module's rules). ``screen``, a shorter search of one line,
    turns away first the positions without a mate in reach."""
    if screen is not None:
        first = engine.lines(board, screen, multipv=1)
        if not first or not isinstance(first[0][0], Mate) or not 0 < first[0][0].moves <= max_mate:
            return None
    board = board.copy()
    solver = board.turn
    line: list[Move] = []
    while len(line) <= 2 * max_mate:
        if board.turn == solver:
            lines = engine.lines(board, limit)
            if not lines:
                return None
            score, move = lines[0]
            if not isinstance(score, Mate) or not 0 < score.moves <= max_mate - len(line) // 2:
                return None
            if len(lines) > 1:
                other = lines[1][0]
                if isinstance(other, Mate) and other.moves > 0 or not isinstance(other, Mate) \
                        and other.cp > ALTERNATIVE_CP:
                    return None
        else:
            move = engine.bestmove(board)
        if not board.is_legal(move):
            return None
        board.push(move)
        line.append(move)
        if _over(board):
            return line if board.turn != solver else None
    return None


def themes(board: Board, line: list[Move]) -> list[str]:
    """``mateN`` (N the solver's moves) and the piece that gives the mate."""
    walk = board.copy()
    for move in line[:-1]:
        walk.push(move)
    piece = walk.piece_at(line[-1].from_square)
    return [f"mate{(len(line) + 1) // 2}", f"mate-by-{PIECE_NAMES[piece.piece_type]}"]


def puzzle_id(board: Board) -> str:
    """A short stable id: the hash of the position's board and side to move."""
    return hashlib.sha1(" ".join(board.fen().split()[:2]).encode()).hexdigest()[:8]


def positions(sources: list[str]) -> Iterator[tuple[str, Board]]:
    """(source name, start position) of every record the sources hold, each position once."""
    seen: set[str] = set()
    for name, data in iter_sources(sources):
        if isinstance(data, str):
            continue
        for game in read_any(name, data):
            if isinstance(game, PgnError):
                continue
            board = game.board()
            key = " ".join(board.fen().split()[:2])
            if key not in seen and not _over(board):
                seen.add(key)
                yield name.rsplit("/", 1)[-1], board


def build_puzzles(sources: list[str], out: str, *, engine: str = DEFAULT_ENGINE, depth: int = 12,
                  screen_depth: int = 10, max_mate: int = 5, limit: int | None = None) -> dict:
    """Search the positions of ``sources`` and write the kept puzzles to ``out`` (JSON lines,
    written as they are found, so a long run can be stopped and resumed) and return the counts.
    Positions whose id ``out`` already holds are skipped."""
    path = Path(out)
    done = {json.loads(line)["id"] for line in path.read_text().splitlines()} if path.is_file() else set()
    spec = EngineSpec.parse(engine)
    counts: Counter = Counter(kept=len(done))
    items = positions(sources)
    if limit is not None:
        items = (item for i, item in enumerate(items) if i < limit)
    with MultiPvClient(spec, timeout=60.0) as client, open(path, "a", encoding="utf-8") as f:
        for name, board in tqdm(items, desc="puzzles", unit="position", mininterval=2.0):
            counts["positions"] += 1
            pid = puzzle_id(board)
            if pid in done:
                continue
            client.new_game()
            line = solve(client, board, Limit(depth=depth), max_mate, Limit(depth=screen_depth))
            if line is None:
                continue
            done.add(pid)
            counts["kept"] += 1
            record = {"id": pid, "fen": board.fen(), "moves": [m.uci() for m in line],
                      "themes": themes(board, line), "source": name}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
    return dict(counts)


__all__ = ["MultiPvClient", "build_puzzles", "solve", "themes"]
