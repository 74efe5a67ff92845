"""Build a verified puzzle set from composed problems and from games (``xqgpt data puzzles``).

The candidate positions are, for every record (XQF, PGN or any format
:func:`xiangqi.records.read_any` reads), its start position (the set-up position of a problem)
and, when its main line ends with the side to move without a legal move, the line's end: the
positions ``2k - 1`` plies before the end, the mating side to move, for ``k = max_mate`` down to 1
(:func:`line_ends`), tried longest first until :data:`LINE_PUZZLES` of them are puzzles, so that
one problem does not flood the set. For a source that is a dataset directory with engine labels
(``SPLIT/labels/meta.json``, from ``xqgpt data label``) they are the labelled positions of its
games where the label says the side to move mates in 1 to ``max_mate`` moves (source
``games:NAME``). Each is searched by a UCI engine (Fairy-Stockfish, ``UCI_Variant xiangqi``) with
two lines (MultiPV 2). A position is kept when, at the same fixed depth:

- the side to move mates in at most ``max_mate`` moves;
- at each of the solver's turns the engine's best move mates and the second best neither mates
  nor wins decisively (at most ``ALTERNATIVE_CP`` centipawns): the move is the only winning one;
- the defender's replies are the engine's best moves;

and the line ends in checkmate (or a position without a legal move, a loss in xiangqi). The
puzzle is the line; its themes are :func:`data.puzzles.themes`'s (``mateN``, the piece that mates,
``sacrifice``); its source is the record's file name, followed by ``, ply P`` for a position
of the line (``P`` moves after the start position). The output is resumable: the ids of the
positions searched, kept or not, are appended to ``OUT.checked``, and a later run skips them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from tqdm import tqdm

from xiangqi import Board, Move
from xiangqi.encoding import codes_fen
from xiangqi.engine import EngineSpec, Limit, Mate, Score, UciClient, parse_move_text, parse_score
from xiangqi.pgn import Game, PgnError
from xiangqi.records import read_any

from .dataset import SPLITS, iter_sources
from .label import META, labels_dir, load_labels
from .puzzles import themes

LINE_PUZZLES = 2  # puzzles (mates of different lengths) one record's line may give
ALTERNATIVE_CP = 200  # a second move scoring more than this is a second way to win
DEFAULT_ENGINE = "/usr/games/fairy-stockfish?UCI_Variant=xiangqi&Threads=1&Hash=32"


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


def puzzle_id(board: Board) -> str:
    """A short stable id: the hash of the position's board and side to move."""
    return hashlib.sha1(" ".join(board.fen().split()[:2]).encode()).hexdigest()[:8]


def labelled_splits(src: str) -> list[str]:
    """The splits of a dataset directory that have engine labels (none for any other source)."""
    return [split for split in SPLITS if (labels_dir(src, split) / META).is_file()]


def game_positions(data_dir: str, max_mate: int) -> Iterator[Board]:
    """The labelled positions of a dataset whose label says the side to move mates in 1 to
    ``max_mate`` moves (``mate`` and a ``score`` of moves to mate above 0)."""
    for split in labelled_splits(data_dir):
        labels = load_labels(data_dir, split, check=False)  # the labels carry their boards
        score = labels["score"]
        for i in np.flatnonzero(labels["mate"] & (score > 0) & (score <= max_mate)):
            yield Board(codes_fen(labels["boards"][i], bool(labels["red"][i])))


def line_ends(game: Game, max_mate: int) -> list[tuple[int, Board]]:
    """The candidates at the end of a record's main line, when the line ends with the side to move
    without a legal move (mated, or no move: a loss in xiangqi): the positions ``2k - 1`` plies
    before the end, where the side that moves last mates in ``k``, for ``k = max_mate`` down to 1
    (those the line is long enough for), as (ply, position), ply 0 the start position. Empty
    for a line that ends otherwise."""
    if not game.moves or game.end_board().legal_moves:
        return []
    plies = {len(game.moves) - 2 * k + 1 for k in range(1, max_mate + 1)}
    board, found = game.board(), []
    for ply, move in enumerate(game.moves):
        if ply in plies:
            found.append((ply, Board(board.fen())))  # the position alone, without the line's history
        board.push(move)
    return found


def _games(src: str) -> Iterator[tuple[str, Game]]:
    """(file name, game) of every record a source of game records holds."""
    for name, data in iter_sources([src]):
        if isinstance(data, str):
            continue
        for game in read_any(name, data):
            if not isinstance(game, PgnError):
                yield name.rsplit("/", 1)[-1], game


def records(sources: list[str], max_mate: int = 5) -> Iterator[tuple[str, Board, list[tuple[int, Board]]]]:
    """(source name, start position, :func:`line_ends`) of every record the sources hold; a
    labelled dataset's positions with a mate in ``max_mate`` each as a record without a line.
    The records whose line ends in a mate, where most puzzles are found and quickly, come first,
    and the labelled positions; then, reading the sources again, the other records."""
    for src in sources:
        if labelled_splits(src):
            name = f"games:{Path(src).resolve().name}"
            for board in game_positions(src, max_mate):
                yield name, board, []
            continue
        for name, game in _games(src):
            ends = line_ends(game, max_mate)
            if ends:
                yield name, game.board(), ends
    for src in sources:
        if not labelled_splits(src):
            for name, game in _games(src):
                if not line_ends(game, max_mate):
                    yield name, game.board(), []


def _append(f: TextIO, text: str) -> None:
    """Write a line and make sure it is on disk (a stopped run keeps it)."""
    f.write(text + "\n")
    f.flush()
    os.fsync(f.fileno())


@dataclass
class PuzzleWriter:
    """Searches candidate positions and appends the puzzles to ``out`` and every searched id to
    ``checked_file``; the ids of ``kept`` and ``checked`` are not searched again."""

    client: MultiPvClient
    limit: Limit
    screen: Limit
    max_mate: int
    out: TextIO
    checked_file: TextIO
    kept: set[str]
    checked: set[str]
    counts: Counter

    def check(self, board: Board, source: str) -> bool:
        """Whether ``board`` is a puzzle: kept before, or searched now and kept (then written)."""
        self.counts["positions"] += 1
        pid = puzzle_id(board)
        if pid in self.kept or pid in self.checked:
            self.counts["skipped"] += 1
            return pid in self.kept
        self.client.new_game()
        line = solve(self.client, board, self.limit, self.max_mate, self.screen)
        self.counts["searched"] += 1
        if line is not None:
            self.kept.add(pid)
            self.counts["kept"] += 1
            moves = [m.uci() for m in line]
            record = {"id": pid, "fen": board.fen(), "moves": moves, "themes": themes(board.fen(), moves),
                      "source": source}
            _append(self.out, json.dumps(record, ensure_ascii=False))
        self.checked.add(pid)
        _append(self.checked_file, pid)
        return line is not None


def build_puzzles(sources: list[str], out: str, *, engine: str = DEFAULT_ENGINE, depth: int = 12,
                  screen_depth: int = 10, max_mate: int = 5, limit: int | None = None) -> dict:
    """Search the candidates of the first ``limit`` records of ``sources`` (all by default), write
    the kept puzzles to ``out`` (JSON lines, written as they are found) and return the counts:
    ``records``, candidate ``positions`` (a position met again counts again), ``skipped`` (met
    before, in this run or in ``out`` or ``OUT.checked``), ``searched``, ``kept`` (the puzzles
    ``out`` holds) and ``line_puzzles`` (records with a puzzle from their line's end). A run can
    be stopped and resumed: the positions whose id ``out`` or ``OUT.checked`` holds are skipped."""
    path = Path(out)
    checked_path = path.with_name(path.name + ".checked")
    kept = {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()} \
        if path.is_file() else set()
    checked = set(checked_path.read_text().split()) if checked_path.is_file() else set()
    items = records(sources, max_mate)
    if limit is not None:
        items = (item for i, item in enumerate(items) if i < limit)
    with (MultiPvClient(EngineSpec.parse(engine), timeout=60.0) as client,
          open(path, "a", encoding="utf-8") as f, open(checked_path, "a", encoding="utf-8") as checked_file):
        writer = PuzzleWriter(client, Limit(depth=depth), Limit(depth=screen_depth), max_mate, f,
                              checked_file, kept, checked, Counter(kept=len(kept)))
        for name, start, ends in tqdm(items, desc="puzzles", unit="record", mininterval=2.0):
            writer.counts["records"] += 1
            start_kept = not _over(start) and writer.check(start, name)
            found = 0
            for ply, board in ends:  # the longest mate first; the start position is searched once
                found += start_kept if ply == 0 else writer.check(board, f"{name}, ply {ply}")
                if found == LINE_PUZZLES:
                    break
            writer.counts["line_puzzles"] += found > 0
    return dict(writer.counts)


__all__ = ["MultiPvClient", "build_puzzles", "game_positions", "line_ends", "records", "solve"]
