"""Build a deduplicated, split, memory-mappable training set from PGN sources.

Layout of a dataset directory::

    summary.json                 counts, splits and rejection reasons
    {train,val,test}/moves.npy   int16 [plies]      vocabulary index of each move
    {train,val,test}/boards.npy  uint8 [plies, 90]  position before each move (see board_codes)
    {train,val,test}/offsets.npy int64 [games + 1]  where each game starts in the two arrays
    {train,val,test}/results.npy int8  [games]      1 Red won, -1 Black won, 0 draw, 2 unknown
    {train,val,test}/games.jsonl one line a game     players, ratings, event, site, date, source file
    {val,test}.pgn               the held-out games in ICCS, for ``xqgpt eval``

Games are deduplicated by start position and move sequence; copies of one game that differ by
truncation or ending (the same first 30 plies, or one a prefix of the other) are then merged into
the longest, which alone is written, to the split given by a hash of its key. So no copy of a game
sits in another split, whatever source, file, folder or notation it came from.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import re
import struct
import tarfile
import threading
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import BinaryIO

import numpy as np
from tqdm import tqdm

from xiangqi import STARTING_FEN, VOCAB_SIZE, Board, index_move
from xiangqi.encoding import MIRROR_SQUARES, board_codes, codes_fen, red_to_move
from xiangqi.limits import parse_int
from xiangqi.pgn import Game, PgnError, write_game
from xiangqi.records import is_record_name, read_any
from xiangqi.vocab import MIRROR_PERMUTATION, legal_move_indices, move_index

MAX_FILE_BYTES = 64 * 1024 * 1024  # bytes of one file or archive member, counted as they are read
IN_FLIGHT_BYTES = 256 * 1024 * 1024  # bytes of the files read and not yet parsed, at most
BATCH = 64  # files sent to a worker at once
BATCH_BYTES = 16 * 1024 * 1024
SPLITS = ("train", "val", "test")
IDENTITY_PLIES = 30  # beyond this many plies two different master games almost never agree
LOOSE_PLIES = 10  # this many plies agreeing make two records one game, whatever their start positions
RESULT_CODES = {"1-0": 1, "0-1": -1, "1/2-1/2": 0, "*": 2}
METADATA_FILE = "games.jsonl"
_HEADER_BYTES_RE = re.compile(rb'^\s*\[\s*([A-Za-z0-9_]+)\s+"(.*)"\s*\]\s*$')
ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError)


_START_CODES = board_codes(Board())


@dataclass
class ParsedGame:
    key: str
    moves: bytes       # int16 vocabulary indices
    boards: bytes      # plies * 90 board codes
    result: str
    headers: dict[str, str]
    fen: str
    source: str = ""  # the file it was read from

    def game(self) -> Game:
        """The game record again (for the held-out PGN files)."""
        moves = [index_move(int(i)) for i in np.frombuffer(self.moves, dtype=np.int16)]
        return Game(headers=self.headers, fen=self.fen, moves=moves, result=self.result)


def game_key(game: Game) -> str:
    """Dedup key: the start position (board and side to move) and the moves."""
    text = " ".join(game.fen.split()[:2] + [m.uci() for m in game.moves])
    return hashlib.sha1(text.encode()).hexdigest()


def line_identity(start: str, moves: bytes) -> tuple[str, bytes]:
    """What the first moves of a game (int16 moves from ``start``, board and side to move) are
    known by: the moves, and the start position while they are fewer than ``LOOSE_PLIES``. So a
    record of a game whose set-up position was mistyped (a piece too many or too few) is the same
    game once that many moves agree, and a move or two that games from different positions share
    by chance is not."""
    return ("" if len(moves) >= 2 * LOOSE_PLIES else start, moves)


def group_copies(games: Sequence[tuple[str, bytes]]) -> tuple[list[list[int]], list[int]]:
    """Group games (start position, int16 moves), all different, that are copies of one game.

    Two games are copies when their first ``IDENTITY_PLIES`` moves agree, or when one, shorter
    than that, is a prefix of the other; the moves count from the same start, or from any start
    when at least ``LOOSE_PLIES`` agree (:func:`line_identity`). Returns the groups, in the order
    of their first game, each with its longest copy first (the earliest among equals), and the
    fragments: short games that are a prefix of two or more different games (an opening line
    several games share), which are a copy of none of them.
    """
    head_bytes = 2 * IDENTITY_PLIES
    heads: dict[tuple[str, bytes], list[int]] = {}
    for i, (start, moves) in enumerate(games):
        heads.setdefault(line_identity(start, moves[:head_bytes]), []).append(i)
    prefixes = {}
    for (start, head), members in heads.items():
        starts = {start} if start else {games[i][0] for i in members}  # for the short prefixes
        prefixes[(start, head)] = {p for s in starts for n in range(2, len(head), 2)
                                   if (p := line_identity(s, head[:n])) in heads}
    inner = {p for ps in prefixes.values() for p in ps}
    owners: dict[tuple[str, bytes], set[tuple[str, bytes]]] = {h: set() for h in heads}
    for head, ps in prefixes.items():
        if head not in inner:  # a longest head: the identity of one game
            for p in (head, *ps):
                owners[p].add(head)
    groups: dict[tuple[str, bytes], list[int]] = {}
    fragments = []
    for i, (start, moves) in enumerate(games):
        (owner, *others) = owners[line_identity(start, moves[:head_bytes])]
        if others:
            fragments.append(i)
        else:
            groups.setdefault(owner, []).append(i)
    return [sorted(g, key=lambda i: (-len(games[i][1]), i)) for g in groups.values()], fragments


def shared_heads(train: Iterable[tuple[str, bytes]],
                 held_out: dict[str, list[tuple[str, bytes]]]) -> dict[str, int]:
    """How many games of each held-out split (start position, int16 moves) share their first
    ``IDENTITY_PLIES`` plies, or all their plies when either game is shorter, with a training
    game: from the same start, or from any start when ``LOOSE_PLIES`` or more agree, as
    :func:`group_copies` merges copies. 0 for the splits of a build."""
    head_bytes = 2 * IDENTITY_PLIES
    heads: set[int] = set()  # hashes of the identities of every training game's first plies
    whole: set[int] = set()  # and of the training games shorter than IDENTITY_PLIES
    for start, moves in train:
        head = moves[:head_bytes]
        heads.update(hash(line_identity(start, head[:n])) for n in range(2, len(head) + 1, 2))
        if len(moves) < head_bytes:
            whole.add(hash(line_identity(start, moves)))

    def shares(start: str, moves: bytes) -> bool:
        return (hash(line_identity(start, moves[:head_bytes])) in heads
                or any(hash(line_identity(start, moves[:n])) in whole
                       for n in range(2, min(len(moves), head_bytes), 2)))

    return {split: sum(shares(*game) for game in games) for split, games in held_out.items()}


def _rating(text: str) -> int | None:
    return parse_int(text, 1, 3999)  # ``str.isdigit`` accepts ``²``, which ``int`` refuses


def game_metadata(game: ParsedGame) -> dict[str, str | int | None]:
    """What a later run may filter or condition on: the players, their ratings where the record
    has them (``RedElo``, ``BlackElo``), event, site, date and the file the game was read from."""
    h = game.headers
    return {"red": h.get("Red", ""), "black": h.get("Black", ""), "red_elo": _rating(h.get("RedElo", "")),
            "black_elo": _rating(h.get("BlackElo", "")), "event": h.get("Event", ""),
            "site": h.get("Site", ""), "date": h.get("Date", ""), "source": game.source}


def split_of(key: str, val_percent: int = 2, test_percent: int = 2) -> str:
    """Deterministic split of a game by its key."""
    bucket = int(key[:8], 16) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + val_percent:
        return "val"
    return "train"


def parse_game(game: Game, source: str = "") -> ParsedGame:
    """Arrays of a game read by :func:`read_games` (so every move is already known legal)."""
    board = bytearray(_START_CODES if game.fen == STARTING_FEN else board_codes(game.board()))
    boards = bytearray()
    for move in game.moves:
        boards += board
        board[move.to_square] = board[move.from_square]
        board[move.from_square] = 0
    moves = np.array([move_index(m) for m in game.moves], dtype=np.int16).tobytes()
    return ParsedGame(game_key(game), moves, bytes(boards), game.result, game.headers, game.fen, source)


def parse_source(item: tuple[str, bytes | str | None]) -> tuple[list[ParsedGame], list[str], list[str]]:
    """Worker: read one file's bytes (or the reason it could not be read; None: nothing to do).

    Returns (games, rejection kinds, messages), one kind and message per rejected game or file.
    """
    name, data = item
    if data is None:
        return [], [], []
    if isinstance(data, str):
        return [], [data.split(":")[0]], [f"{name}: {data}"]
    games: list[ParsedGame] = []
    kinds: list[str] = []
    messages: list[str] = []
    for g in read_any(name, data):
        if isinstance(g, PgnError):
            kinds.append(g.kind)
            messages.append(str(g))
        elif not g.moves:
            kinds.append("no moves")
            messages.append(f"{name}: game without moves")
        else:
            games.append(parse_game(g, name))
    if not games and not kinds:
        kinds.append("no game")
        messages.append(f"{name}: no game found")
    return games, kinds, messages


def _too_large(size: int) -> str | None:
    if size > MAX_FILE_BYTES:
        return f"file too large: {size} bytes (limit {MAX_FILE_BYTES})"
    return None


def _read_at_most(f: BinaryIO) -> bytes | str:
    """The bytes of ``f``, or the reason when it holds more than :data:`MAX_FILE_BYTES`: the
    bytes read count, not the size a header or the file system declares (``/dev/zero`` has 0)."""
    data = f.read(MAX_FILE_BYTES + 1)
    return f"file too large: more than {MAX_FILE_BYTES} bytes" if len(data) > MAX_FILE_BYTES else data


def _read_file(path: Path) -> bytes | str:
    try:
        if reason := _too_large(path.stat().st_size):
            return reason
        with path.open("rb") as f:
            return _read_at_most(f)
    except OSError as e:
        return f"unreadable file: {e}"


def printable(name: str) -> str:
    """A file or member name safe to print: control characters (newlines, terminal escapes) as
    Python escapes."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)


def _bzip2_member(path: Path, info: zipfile.ZipInfo) -> bytes | str:
    """A bzip2 zip member's bytes, decompressed at most :data:`MAX_FILE_BYTES` at a time (the
    zipfile module decompresses a whole read of compressed bytes at once: a few kilobytes of
    bzip2 can hold gigabytes)."""
    if info.flag_bits & 1:
        return "unreadable file: encrypted"
    with path.open("rb") as raw:
        raw.seek(info.header_offset)
        header = raw.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return "unreadable file: bad local header"
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        raw.seek(info.header_offset + 30 + name_length + extra_length)
        left, out = info.compress_size, bytearray()
        decompressor = bz2.BZ2Decompressor()
        while not decompressor.eof:
            chunk = b""
            if decompressor.needs_input:
                chunk = raw.read(min(1 << 16, left))
                left -= len(chunk)
                if not chunk:
                    return "unreadable file: the bzip2 data ends early"
            out += decompressor.decompress(chunk, max_length=MAX_FILE_BYTES + 1 - len(out))
            if len(out) > MAX_FILE_BYTES:
                return f"file too large: more than {MAX_FILE_BYTES} bytes"
    return bytes(out)


def _zip_member(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | str:
    """A zip member's bytes, counted as they are decompressed, or the reason it is not read."""
    if info.compress_type == zipfile.ZIP_BZIP2:
        return _bzip2_member(path, info)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"unreadable file: compression method {info.compress_type} (stored, deflate or bzip2 are read)"
    with z.open(info) as f:
        return _read_at_most(f)


def _is_pgn(name: str) -> bool:
    return is_record_name(name)


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith((".tar.gz", ".tgz", ".tar", ".zip"))


def _archive_members(path: Path) -> Iterator[tuple[str, bytes | str]]:
    """(member name, bytes or reason) of the PGN members of a tar or zip archive, in archive order.

    Members are only read into memory, never extracted, so names like ``../x.pgn`` are harmless.
    """
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir() and _is_pgn(info.filename):
                    try:
                        yield info.filename, _too_large(info.file_size) or _zip_member(path, z, info)
                    except ARCHIVE_ERRORS as e:
                        yield info.filename, f"unreadable file: {e}"
        return
    with tarfile.open(path) as tar:
        for member in tar:
            if member.isfile() and _is_pgn(member.name):
                f = tar.extractfile(member)
                yield member.name, _too_large(member.size) or (_read_at_most(f) if f else b"")


def iter_sources(sources: Iterable[str]) -> Iterator[tuple[str, bytes | str]]:
    """(name, bytes) of every PGN file in files, folders (recursive) and .tar.gz/.tgz/.tar/.zip
    archives; a file that cannot be read comes with the reason instead of its bytes."""
    for src in sources:
        path = Path(src)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and _is_pgn(p.name):
                    yield printable(str(p)), _read_file(p)
        elif _is_archive(path):
            try:
                for name, data in _archive_members(path):
                    yield printable(f"{src}:{name}"), data
            except ARCHIVE_ERRORS as e:
                yield printable(src), f"unreadable archive: {e}"
        else:
            yield printable(str(path)), _read_file(path)


def count_sources(sources: Iterable[str]) -> int | None:
    """How many PGN files the sources hold (for the progress bar), or None if unknown."""
    n = 0
    try:
        for src in sources:
            path = Path(src)
            if path.is_dir():
                n += sum(1 for p in path.rglob("*") if p.is_file() and _is_pgn(p.name))
            elif path.suffix.lower() == ".zip":
                with zipfile.ZipFile(path) as z:
                    n += sum(1 for i in z.infolist() if not i.is_dir() and _is_pgn(i.filename))
            elif _is_archive(path):
                with tarfile.open(path) as tar:
                    n += sum(1 for m in tar if m.isfile() and _is_pgn(m.name))
            else:
                n += 1
    except ARCHIVE_ERRORS:
        return None
    return n


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file beside ``path`` and rename it over ``path``, so a reader that has the old
    file memory-mapped (a training run) keeps a valid copy."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def _save(path: Path, array: np.ndarray) -> None:
    _replace(path, lambda f: np.save(f, array))


class _SplitWriter:
    def __init__(self) -> None:
        self.moves = bytearray()
        self.boards = bytearray()
        self.lengths: list[int] = []
        self.results: list[int] = []
        self.pgns: list[str] = []
        self.metadata: list[str] = []

    def add(self, moves: bytes, boards: bytes, result: str, pgn: str | None, metadata: dict) -> None:
        self.moves += moves
        self.boards += boards
        self.lengths.append(len(moves) // 2)
        self.results.append(RESULT_CODES.get(result, 2))
        self.metadata.append(json.dumps(metadata, ensure_ascii=False))
        if pgn is not None:
            self.pgns.append(pgn)

    def save(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        _save(folder / "moves.npy", np.frombuffer(self.moves, dtype=np.int16))
        _save(folder / "boards.npy", np.frombuffer(self.boards, dtype=np.uint8).reshape(-1, 90))
        _save(folder / "offsets.npy", offsets)
        _save(folder / "results.npy", np.array(self.results, dtype=np.int8))
        text = "".join(line + "\n" for line in self.metadata).encode("utf-8")
        _replace(folder / METADATA_FILE, lambda f: f.write(text))
        return {"games": len(self.lengths), "plies": int(offsets[-1])}


def mirrored(parsed: ParsedGame) -> tuple[bytes, bytes]:
    """Moves and boards of a game reflected left-right."""
    moves = MIRROR_PERMUTATION[np.frombuffer(parsed.moves, dtype=np.int16)].astype(np.int16)
    boards = np.frombuffer(parsed.boards, dtype=np.uint8).reshape(-1, 90)[:, MIRROR_SQUARES]
    return moves.tobytes(), np.ascontiguousarray(boards).tobytes()


def parse_batch(batch: tuple[list[tuple[str, bytes | str | None]], int]) -> tuple[list, int]:
    """Worker: :func:`parse_source` of each file of a batch; the batch's bytes come back with the
    answers."""
    items, size = batch
    return [parse_source(item) for item in items], size


class _InFlight:
    """Files go to the workers in batches, and the bytes of those not yet answered stay under a
    bound: the reader waits for answers before it sends more (a pool would otherwise read every
    file of the sources into memory while the first ones are parsed)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.bytes = limit, 0
        self.changed = threading.Condition()

    def batches(self, items: Iterable[tuple[str, bytes | str | None]]) -> Iterator[tuple[list, int]]:
        """Batches of at most :data:`BATCH` files and about :data:`BATCH_BYTES` bytes, each one
        once the bytes in flight leave room for it (or none are in flight)."""
        batch, size = [], 0
        for item in items:
            batch.append(item)
            size += len(item[1]) if isinstance(item[1], bytes) else 0
            if len(batch) == BATCH or size >= BATCH_BYTES:
                yield self._send(batch, size)
                batch, size = [], 0
        if batch:
            yield self._send(batch, size)

    def _send(self, batch: list, size: int) -> tuple[list, int]:
        with self.changed:
            self.changed.wait_for(lambda: not self.bytes or self.bytes + size <= self.limit)
            self.bytes += size
        return batch, size

    def answers(self, answered: Iterable[tuple[list, int]]) -> Iterator:
        """The answers of each batch, in order; a batch's bytes are freed once its answers are used."""
        for results, size in answered:
            yield from results
            with self.changed:
                self.bytes -= size
                self.changed.notify_all()


def _check_sources(sources: list[str]) -> None:
    missing = [s for s in sources if not Path(s).exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")


def movetext_signature(data: bytes) -> bytes:
    """A digest of a file's bytes with every header value but FEN's blanked.

    Files with the same signature hold the same games, start positions and rejections: CCPD
    files the same game under several folders with other headers, and these are read once.
    """
    lines = []
    for line in data.split(b"\n"):
        m = _HEADER_BYTES_RE.match(line)
        lines.append(line if m is None or m.group(1) == b"FEN" else b"[" + m.group(1))
    return hashlib.sha1(b"\n".join(lines)).digest()


def scan(sources: list[str], workers: int, on_game: Callable[[ParsedGame], None] | None = None,
         max_examples: int = 20) -> tuple[dict, list[list[int]]]:
    """Read every source; call ``on_game(parsed)`` for each accepted game with new moves.

    Returns the counts and the copies of each game (:func:`group_copies`), as indices into the
    games passed to ``on_game``. ``duplicates`` counts games with the moves of an earlier one,
    ``near_duplicates`` the other copies merged into the longest, ``fragments`` the games left
    out as a prefix of several; ``unique`` and ``plies`` are of the games kept. A file counts as
    accepted when all its games are; ``rejected_examples`` holds the first ``max_examples``
    rejection messages (file, game index, ply, text and reason).
    """
    _check_sources(sources)
    stats: Counter = Counter()
    per_source = [Counter() for _ in sources]
    reasons: Counter = Counter()
    seen: dict[str, int] = {}  # the key of each new game: its index
    identities: list[tuple[str, bytes]] = []  # start position and moves of each new game
    in_sources: list[int] = []  # the sources each new game is in, as bits
    examples: list[str] = []
    # (name, source, signature, whether an earlier file had the signature), in the order files are sent.
    order: deque[tuple[str, int, bytes | None, bool]] = deque()
    # first name, accepted games, rejections, keys of the games
    outcomes: dict[bytes, tuple[str, int, list[str], list[str]]] = {}

    def items() -> Iterator[tuple[str, bytes | str | None]]:
        signatures: set[bytes] = set()
        for s, src in enumerate(sources):
            for name, data in iter_sources([src]):
                sig = movetext_signature(data) if isinstance(data, bytes) else None
                copy = sig in signatures
                if sig is not None:
                    signatures.add(sig)
                order.append((name, s, sig, copy))
                yield name, None if copy else data

    bar = tqdm(total=count_sources(sources), unit="file", desc="reading", mininterval=1.0)
    pool = Pool(workers) if workers > 1 else None
    in_flight = _InFlight(IN_FLIGHT_BYTES)
    try:
        batches = in_flight.batches(items())
        answers = pool.imap(parse_batch, batches) if pool else map(parse_batch, batches)
        results = in_flight.answers(answers)
        for games, kinds, messages in results:
            name, s, sig, copy = order.popleft()
            if copy:
                first, accepted, kinds, keys = outcomes[sig]
                messages = [f"{name}: {kind} (as in {first})" for kind in kinds]
                stats["accepted"] += accepted
                stats["duplicates"] += accepted
                per_source[s]["accepted"] += accepted
                for key in keys:
                    in_sources[seen[key]] |= 1 << s
            elif sig is not None:
                outcomes[sig] = (name, len(games), kinds, [g.key for g in games])
            bar.update()
            for counts in (stats, per_source[s]):
                counts["files"] += 1
                counts["files_accepted"] += not kinds
                counts["rejected"] += len(kinds)
                counts["accepted"] += len(games)
            reasons.update(kinds)
            examples.extend(messages[: max(0, max_examples - len(examples))])
            for g in games:
                if g.key in seen:
                    stats["duplicates"] += 1
                    in_sources[seen[g.key]] |= 1 << s
                    continue
                seen[g.key] = len(identities)
                identities.append((" ".join(g.fen.split()[:2]), g.moves))
                in_sources.append(1 << s)
                if on_game:
                    on_game(g)
    finally:
        bar.close()
        if pool:
            pool.terminate()
            pool.join()
    groups, fragments = group_copies(identities)
    stats["games"] = stats["accepted"] + stats["rejected"]
    stats["near_duplicates"] = len(identities) - len(fragments) - len(groups)
    stats["fragments"] = len(fragments)
    stats["unique"] = len(groups)
    stats["plies"] = sum(len(identities[g[0]][1]) // 2 for g in groups)
    summary = {k: stats[k] for k in ("files", "files_accepted", "games", "accepted", "rejected",
                                     "duplicates", "near_duplicates", "fragments", "unique", "plies")}
    summary["rejected_by_reason"] = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    summary["sources"] = _source_counts(sources, per_source, [_bits(g, in_sources) for g in groups])
    summary["rejected_examples"] = examples
    return summary, groups


def _bits(group: list[int], in_sources: list[int]) -> int:
    bits = 0
    for i in group:
        bits |= in_sources[i]
    return bits


def _source_counts(sources: list[str], per_source: list[Counter], game_sources: list[int]) -> list[dict]:
    """Per source: its files and games as read, the games kept (copies merged across all
    sources) that it holds a copy of (``unique``), and how many of those no earlier source holds
    (``new``)."""
    out = []
    for s, src in enumerate(sources):
        bit = 1 << s
        counts = {k: per_source[s][k] for k in ("files", "files_accepted", "accepted", "rejected")}
        counts["unique"] = sum(1 for bits in game_sources if bits & bit)
        counts["new"] = sum(1 for bits in game_sources if bits & bit and not bits & (bit - 1))
        out.append({"source": src, **counts})
    return out


def build(sources: list[str], out: str, *, mirror: bool = False, workers: int | None = None,
          val_percent: int = 2, test_percent: int = 2) -> dict:
    """Build a dataset directory from PGN sources and return its summary.

    Each game is written once: its longest copy, to the split of that copy's key (a game without
    copies keeps the split it had before copies were merged).
    Mirrored copies (``mirror``) are added to the training split only; counts in the summary
    are of the games read (see :func:`scan`), ``splits`` of what was written.
    """
    out_dir = Path(out)
    writers = {s: _SplitWriter() for s in SPLITS}
    workers = workers or min(2, os.cpu_count() or 1)
    games: list[ParsedGame | None] = []
    summary, groups = scan(sources, workers, games.append)
    lines: dict[str, list[tuple[str, bytes]]] = {s: [] for s in SPLITS}  # start and moves of each game
    for group in groups:
        g = games[group[0]]
        assert g is not None
        for i in group:
            games[i] = None  # the copies are not written; free them as the arrays grow
        split = split_of(g.key, val_percent, test_percent)
        pgn = write_game(g.game(), "iccs") if split != "train" else None
        metadata = game_metadata(g)
        writers[split].add(g.moves, g.boards, g.result, pgn, metadata)
        lines[split].append((" ".join(g.fen.split()[:2]), g.moves))
        if mirror and split == "train":
            writers[split].add(*mirrored(g), g.result, None, {**metadata, "mirrored": True})
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["splits"] = {s: writers[s].save(out_dir / s) for s in SPLITS}
    summary["mirror"] = mirror
    summary["shared_heads"] = shared_heads(lines["train"], {s: lines[s] for s in ("val", "test")})
    for s in ("val", "test"):
        pgn = "\n".join(writers[s].pgns).encode("utf-8")
        _replace(out_dir / f"{s}.pgn", lambda f, data=pgn: f.write(data))
    text = json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8")
    _replace(out_dir / "summary.json", lambda f: f.write(text))
    return summary


def check(sources: list[str], workers: int | None = None) -> dict:
    """Read and validate sources without writing anything."""
    return scan(sources, workers or min(2, os.cpu_count() or 1))[0]


def is_dataset(path: str) -> bool:
    return (Path(path) / "summary.json").is_file() and (Path(path) / "train" / "moves.npy").is_file()


def load_split(path: str, split: str) -> dict[str, np.ndarray]:
    """Memory-map one split of a dataset directory."""
    if not is_dataset(path):
        raise FileNotFoundError(f"{path} is not a dataset directory (run `xqgpt data build` first)")
    folder = Path(path) / split
    return {name: np.load(folder / f"{name}.npy", mmap_mode="r")
            for name in ("moves", "boards", "offsets", "results")}


def load_metadata(path: str, split: str) -> list[dict]:
    """The metadata of each game of a split (:func:`game_metadata`; a mirrored copy's has
    ``"mirrored": true``), in the order of its arrays."""
    file = Path(path) / split / METADATA_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: the dataset was built before games had their metadata "
                                "(build it again with `xqgpt data build`)")
    with open(file, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


LEGAL_FILE = "legal.npy"
LEGAL_BYTES = -(-VOCAB_SIZE // 8)  # one bit per vocabulary move
_LEGAL_CHUNK = 4096


def _legal_bits(chunk: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    codes, red = chunk
    mask = np.zeros((len(codes), VOCAB_SIZE), dtype=bool)
    for i in range(len(codes)):
        mask[i, legal_move_indices(Board(codes_fen(codes[i], bool(red[i]))))] = True
    return np.packbits(mask, axis=1)


def legal_table(path: str, split: str, workers: int | None = None) -> np.ndarray:
    """The legal moves of every position of a split as packed bits [plies, LEGAL_BYTES]
    (``np.unpackbits`` with ``count=VOCAB_SIZE`` gives the masks), computed by the rules engine on
    first use with ``workers`` processes (about 0.16 ms of CPU a position) and kept as
    ``SPLIT/legal.npy``."""
    file = Path(path) / split / LEGAL_FILE
    if not file.is_file():
        data = load_split(path, split)
        moves, boards = data["moves"], data["boards"]

        def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for s in range(0, len(moves), _LEGAL_CHUNK):
                codes = np.asarray(boards[s:s + _LEGAL_CHUNK])
                yield codes, red_to_move(codes, np.asarray(moves[s:s + _LEGAL_CHUNK]))

        chunk_count = -(-len(moves) // _LEGAL_CHUNK)
        with Pool(workers or os.cpu_count()) as pool:
            work = pool.imap(_legal_bits, chunks())
            parts = list(tqdm(work, total=chunk_count, desc="legal moves", unit="chunk"))
        tmp = file.with_suffix(".tmp.npy")
        np.save(tmp, np.concatenate(parts) if parts else np.zeros((0, LEGAL_BYTES), dtype=np.uint8))
        os.replace(tmp, file)
    return np.load(file, mmap_mode="r")


def unpack_legal(bits: np.ndarray) -> np.ndarray:
    """Packed legal moves [n, LEGAL_BYTES] (rows of :func:`legal_table`) -> bool [n, VOCAB_SIZE]."""
    return np.unpackbits(np.asarray(bits), axis=1, count=VOCAB_SIZE).astype(bool)


__all__ = ["build", "check", "load_split", "load_metadata", "is_dataset", "legal_table", "unpack_legal",
           "board_codes", "split_of", "group_copies", "shared_heads", "game_metadata"]
