"""Build a deduplicated, split, memory-mappable training set from PGN sources.

Layout of a dataset directory::

    summary.json                 counts, splits and rejection reasons
    {train,val,test}/moves.npy   int16 [plies]      vocabulary index of each move
    {train,val,test}/boards.npy  uint8 [plies, 90]  position before each move (see BOARD_CODES)
    {train,val,test}/offsets.npy int64 [games + 1]  where each game starts in the two arrays
    {train,val,test}/results.npy int8  [games]      1 Red won, -1 Black won, 0 draw, 2 unknown
    {val,test}.pgn               the held-out games in ICCS, for ``xqgpt eval``

Games are deduplicated by start position and move sequence, and split by a hash of that key,
so a game can never sit in two splits whatever file, folder or notation it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from tqdm import tqdm

from xiangqi import Board, mirror_square
from xiangqi.pgn import Game, PgnError, decode_bytes, read_games, write_game
from xiangqi.vocab import MIRROR_PERMUTATION, move_index

PGN_SUFFIXES = (".pgn", ".pgns")
MAX_FILE_BYTES = 64 * 1024 * 1024
SPLITS = ("train", "val", "test")
RESULT_CODES = {"1-0": 1, "0-1": -1, "1/2-1/2": 0, "*": 2}
MIRROR_SQUARES = np.array([mirror_square(s) for s in range(90)], dtype=np.int64)


def board_codes(board: Board) -> bytes:
    """90 bytes, one per square: 0 empty, 1..7 Red general..soldier, 8..14 Black."""
    return bytes(c if c >= 0 else 7 - c for c in board._board)


@dataclass
class ParsedGame:
    key: str
    moves: bytes       # int16 vocabulary indices
    boards: bytes      # plies * 90 board codes
    result: int
    pgn: str           # ICCS PGN of the game


def game_key(game: Game) -> str:
    text = game.fen.split()[0] + " " + game.fen.split()[1] + " " + " ".join(m.uci() for m in game.moves)
    return hashlib.sha1(text.encode()).hexdigest()


def split_of(key: str, val_percent: int = 2, test_percent: int = 2) -> str:
    """Deterministic split of a game by its key."""
    bucket = int(key[:8], 16) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + val_percent:
        return "val"
    return "train"


def parse_game(game: Game) -> ParsedGame:
    board = game.board()
    boards = bytearray()
    for move in game.moves:
        boards += board_codes(board)
        board.push(move)
    moves = np.array([move_index(m) for m in game.moves], dtype=np.int16).tobytes()
    return ParsedGame(game_key(game), moves, bytes(boards), RESULT_CODES.get(game.result, 2),
                      write_game(game, "iccs"))


def parse_source(item: tuple[str, bytes]) -> tuple[str, list[ParsedGame], list[str], list[str]]:
    """Worker: read one file's bytes. Returns (name, games, rejection kinds, messages)."""
    name, data = item
    games: list[ParsedGame] = []
    kinds: list[str] = []
    messages: list[str] = []
    if len(data) > MAX_FILE_BYTES:
        return name, [], ["file too large"], [f"{name}: file larger than {MAX_FILE_BYTES} bytes"]
    text = decode_bytes(data)
    found = False
    for g in read_games(text, source=name):
        found = True
        if isinstance(g, PgnError):
            kinds.append(g.kind)
            messages.append(str(g))
        elif not g.moves:
            kinds.append("no moves")
            messages.append(f"{name}: game without moves")
        else:
            games.append(parse_game(g))
    if not found:
        kinds.append("no game")
        messages.append(f"{name}: no game found")
    return name, games, kinds, messages


def iter_sources(sources: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every PGN file in files, folders and .tar.gz/.tgz/.tar/.zip archives."""
    for src in sources:
        path = Path(src)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and p.suffix.lower() in PGN_SUFFIXES:
                    yield str(p), p.read_bytes()
        elif path.name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(path) as tar:  # archive order: a sorted walk would re-read the stream
                for member in tar:
                    if member.isfile() and member.name.lower().endswith(PGN_SUFFIXES):
                        f = tar.extractfile(member)
                        if f is not None:
                            yield f"{src}:{member.name}", f.read()
        elif path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as z:
                for info in sorted(z.infolist(), key=lambda i: i.filename):
                    if not info.is_dir() and info.filename.lower().endswith(PGN_SUFFIXES):
                        yield f"{src}:{info.filename}", z.read(info)
        elif path.is_file():
            yield str(path), path.read_bytes()
        else:
            raise FileNotFoundError(f"no such file or folder: {src}")


def count_sources(sources: Iterable[str]) -> int | None:
    """How many PGN files the sources hold (for the progress bar), or None for archives."""
    n = 0
    for src in sources:
        path = Path(src)
        if path.is_dir():
            n += sum(1 for p in path.rglob("*") if p.suffix.lower() in PGN_SUFFIXES)
        elif path.is_file() and path.suffix.lower() in PGN_SUFFIXES:
            n += 1
        else:
            return None
    return n


class _SplitWriter:
    def __init__(self) -> None:
        self.moves: list[bytes] = []
        self.boards: list[bytes] = []
        self.lengths: list[int] = []
        self.results: list[int] = []
        self.pgns: list[str] = []

    def add(self, moves: bytes, boards: bytes, result: int, pgn: str | None) -> None:
        self.moves.append(moves)
        self.boards.append(boards)
        self.lengths.append(len(moves) // 2)
        self.results.append(result)
        if pgn is not None:
            self.pgns.append(pgn)

    def save(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        moves = np.frombuffer(b"".join(self.moves), dtype=np.int16)
        boards = np.frombuffer(b"".join(self.boards), dtype=np.uint8).reshape(-1, 90)
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        np.save(folder / "moves.npy", moves)
        np.save(folder / "boards.npy", boards)
        np.save(folder / "offsets.npy", offsets)
        np.save(folder / "results.npy", np.array(self.results, dtype=np.int8))
        return {"games": len(self.lengths), "plies": int(offsets[-1])}


def mirrored(parsed: ParsedGame) -> tuple[bytes, bytes]:
    """Moves and boards of a game reflected left-right."""
    moves = MIRROR_PERMUTATION[np.frombuffer(parsed.moves, dtype=np.int16)].astype(np.int16)
    boards = np.frombuffer(parsed.boards, dtype=np.uint8).reshape(-1, 90)[:, MIRROR_SQUARES]
    return moves.tobytes(), np.ascontiguousarray(boards).tobytes()


def scan(sources: list[str], workers: int, on_game=None) -> dict:
    """Read every source; call ``on_game(parsed)`` for each unique accepted game; return counts."""
    stats = Counter()
    reasons: Counter = Counter()
    seen: set[str] = set()
    examples: list[str] = []
    items = iter_sources(sources)
    bar = tqdm(total=count_sources(sources), unit="file", desc="reading", mininterval=1.0,
               disable=False)
    pool = Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(parse_source, items, chunksize=32) if pool else map(parse_source, items)
        for name, games, kinds, messages in results:
            bar.update()
            stats["files"] += 1
            stats["files_accepted"] += not kinds
            stats["games"] += len(games) + len(kinds)
            stats["accepted"] += len(games)
            stats["rejected"] += len(kinds)
            reasons.update(kinds)
            examples.extend(messages[: max(0, 20 - len(examples))])
            for g in games:
                if g.key in seen:
                    stats["duplicates"] += 1
                    continue
                seen.add(g.key)
                stats["unique"] += 1
                stats["plies"] += len(g.moves) // 2
                if on_game:
                    on_game(g)
    finally:
        bar.close()
        if pool:
            pool.close()
            pool.join()
    summary = {k: stats[k] for k in ("files", "files_accepted", "games", "accepted", "rejected",
                                     "duplicates", "unique", "plies")}
    summary["rejected_by_reason"] = dict(reasons.most_common())
    summary["rejected_examples"] = examples
    return summary


def build(sources: list[str], out: str, *, mirror: bool = False, workers: int | None = None,
          val_percent: int = 2, test_percent: int = 2) -> dict:
    """Build a dataset directory from PGN sources and return its summary."""
    out_dir = Path(out)
    writers = {s: _SplitWriter() for s in SPLITS}
    workers = workers or min(2, os.cpu_count() or 1)

    def on_game(g: ParsedGame) -> None:
        split = split_of(g.key, val_percent, test_percent)
        writers[split].add(g.moves, g.boards, g.result, g.pgn if split != "train" else None)
        if mirror and split == "train":
            writers[split].add(*mirrored(g), g.result, None)

    summary = scan(sources, workers, on_game)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["splits"] = {s: writers[s].save(out_dir / s) for s in SPLITS}
    summary["mirror"] = mirror
    for s in ("val", "test"):
        (out_dir / f"{s}.pgn").write_text("\n".join(writers[s].pgns), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


def check(sources: list[str], workers: int | None = None) -> dict:
    """Read and validate sources without writing anything."""
    return scan(sources, workers or min(2, os.cpu_count() or 1))


def is_dataset(path: str) -> bool:
    return (Path(path) / "summary.json").is_file() and (Path(path) / "train" / "moves.npy").is_file()


def load_split(path: str, split: str) -> dict[str, np.ndarray]:
    """Memory-map one split of a dataset directory."""
    if not is_dataset(path):
        raise FileNotFoundError(f"{path} is not a dataset directory (run `xqgpt data build` first)")
    folder = Path(path) / split
    return {name: np.load(folder / f"{name}.npy", mmap_mode="r")
            for name in ("moves", "boards", "offsets", "results")}


__all__ = ["build", "check", "load_split", "is_dataset", "board_codes", "split_of"]
