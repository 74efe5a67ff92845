"""Reading XQStudio (象棋演播室) XQF records, versions 10 to 18, and writing version 10.

Layout (see docs/formats.md for the sources): a 1024-byte header, then the move tree.

- Header: ``XQ``, the version, the key bytes (mask, four "or" bytes, a checksum and the three
  keys of the piece places, move origins and move targets), 32 piece places (Red's then
  Black's chariot, horse, elephant, advisor, general, advisor, elephant, horse, chariot, two
  cannons and five soldiers; ``10 * file + rank`` from Red's lower left, > 89 for a piece off
  the board), the side to move and result, and Pascal strings (length byte, GBK text): title,
  event, date, site, Red, Black, time control, commentator and author.
- Versions ≥ 11 scramble: the piece places are shifted by a key (and rotated in their list
  from version 12), and every byte from offset 1024 on has a 32-byte key stream subtracted.
- The tree: one 4-byte record per node (origin, target, flags, reserved), the first one the
  root (the start position), each followed by a comment length and comment when flagged;
  the nodes come in pre-order (see :mod:`xiangqi.movetree`).
"""

from __future__ import annotations

import struct

from .base import PIECE_SYMBOLS
from .core import Board
from .movetree import Record, placement_fen, replay_tree, square_from_xy
from .pgn import Game, Line, PgnError

MAGIC = b"XQ"
HEADER_SIZE = 1024
VERSIONS = range(10, 19)
PIECE_LETTERS = "RNBAKABNRCCPPPPP"
RESULTS = {1: "1-0", 2: "0-1", 3: "1/2-1/2"}
# (offset, header) of the Pascal strings of the header.
TEXT_FIELDS = ((80, "Title"), (208, "Event"), (272, "Date"), (288, "Site"), (304, "Red"),
               (320, "Black"), (336, "TimeControl"), (464, "Annotator"), (480, "Author"))
_KEY_TEXT = b"[(C) Copyright Mr. Dong Shiwei.]"
MAX_COMMENT = 1 << 20


def _key(seed: int, factor: int) -> int:
    """XQStudio's key formula, kept to a byte."""
    return (((((seed * seed) * 3 + 9) * 3 + 8) * 2 + 1) * 3 + 8) * factor & 0xFF


def _text(data: bytes, offset: int) -> str:
    n = min(data[offset], 63 if offset < 272 or offset == 336 else 15)
    return data[offset + 1:offset + 1 + n].decode("gb18030", errors="replace").strip("\x00 ")


class _Reader:
    """The move tree's bytes, unscrambled on the fly, read record by record."""

    def __init__(self, data: bytes, version: int, source: str) -> None:
        self.data, self.pos, self.source = data, HEADER_SIZE, source
        self.old = version <= 10
        if self.old:
            self.stream = bytes(32)
            self.key_from = self.key_to = self.key_comment = 0
            return
        mask, or_bytes = data[3], data[8:12]
        key_sum, head_xy, head_from, head_to = data[12:16]
        key_xy = _key(head_xy, head_xy)
        self.key_from = _key(head_from, key_xy)
        self.key_to = _key(head_to, self.key_from)
        self.key_comment = (key_sum * 256 + head_xy) % 32000 + 767
        keys = [(k & mask) | o for k, o in zip((key_sum, head_xy, head_from, head_to), or_bytes, strict=True)]
        self.stream = bytes(c & keys[i % 4] for i, c in enumerate(_KEY_TEXT))

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PgnError(f"truncated file: a move record runs past the end ({len(self.data)} "
                           "bytes)", source=self.source)
        start, self.pos = self.pos, self.pos + n
        return bytes((b - self.stream[i % 32]) & 0xFF
                     for i, b in enumerate(self.data[start:self.pos], start))

    def record(self) -> Record:
        origin, target, flags, _ = self.read(4)
        if self.old:
            has_next, has_sibling = bool(flags & 0xF0), bool(flags & 0x0F)
            length = struct.unpack("<i", self.read(4))[0]
        else:
            has_next, has_sibling = bool(flags & 0x80), bool(flags & 0x40)
            length = struct.unpack("<i", self.read(4))[0] - self.key_comment if flags & 0x20 else 0
        if not 0 <= length <= MAX_COMMENT:
            raise PgnError(f"bad comment length: {length} at byte {self.pos - 4}",
                           source=self.source)
        text = self.read(length).decode("gb18030", errors="replace") if length else ""
        comment = text.replace("\r\n", "\n").strip("\x00 \t\r\n")
        a = (origin - 0x18 - self.key_from) & 0xFF
        b = (target - 0x20 - self.key_to) & 0xFF
        frm = square_from_xy(a // 10, a % 10) if a < 90 else -1
        to = square_from_xy(b // 10, b % 10) if b < 90 else -1
        return Record(frm, to, comment, has_next, has_sibling)


def _pieces(data: bytes, version: int) -> dict[int, str]:
    places = list(data[16:48])
    if version >= 11:
        key_xy = _key(data[13], data[13])
        if version >= 12:
            rotated = [0] * 32
            for i, p in enumerate(places):
                rotated[(i + key_xy + 1) % 32] = p
            places = rotated
        places = [(p - key_xy) & 0xFF for p in places]
    pieces: dict[int, str] = {}
    for i, p in enumerate(places):
        if p < 90:
            letter = PIECE_LETTERS[i % 16]
            pieces[square_from_xy(p // 10, p % 10)] = letter if i < 16 else letter.lower()
    return pieces


def read_xqf(data: bytes, *, source: str = "") -> Game:
    """The game of an XQF file's bytes; raises :class:`PgnError` with the reason it cannot be
    read (wrong magic, unknown version, bad key, truncated file, bad position, illegal move)."""
    if not data.startswith(MAGIC):
        raise PgnError("not an XQF file: no 'XQ' magic", source=source)
    if len(data) < HEADER_SIZE:
        raise PgnError(f"truncated file: {len(data)} bytes, the header alone has {HEADER_SIZE}",
                       source=source)
    version = data[2]
    if version not in VERSIONS:
        raise PgnError(f"unsupported XQF version: {version} (10 to 18 are read)", source=source)
    if version >= 11 and sum(data[12:16]) % 256:
        raise PgnError("bad key: the key bytes do not sum to 0 mod 256", source=source)
    headers = {name: text for offset, name in TEXT_FIELDS if (text := _text(data, offset))}
    result = RESULTS.get(data[51], "*")
    headers["Result"] = result
    game = Game(headers=headers, fen=placement_fen(_pieces(data, version), data[50] == 0),
                result=result)
    reader = _Reader(data, version, source)
    if len(data) == HEADER_SIZE:
        return replay_tree(game, reader.record, False, source=source)
    root = reader.record()
    if root.comment:
        game.comments[0] = root.comment
    # Version 10 files do not always flag the first move: any record after the root is one.
    has_moves = root.has_next or (reader.old and reader.pos < len(data))
    return replay_tree(game, reader.record, has_moves, source=source)


def _pascal(text: str, size: int) -> bytes:
    """A Pascal string field of ``size`` bytes: length byte, GBK text cut on a character."""
    data = b""
    for ch in text:
        encoded = ch.encode("gb18030")
        if len(data) + len(encoded) > size - 1:
            break
        data += encoded
    return bytes([len(data)]) + data.ljust(size - 1, b"\x00")


def _record(frm: int, to: int, has_next: bool, has_sibling: bool, comment: str) -> bytes:
    """A version 10 move record: squares as ``10 * file + rank`` plus the offsets, the flags
    and the comment length (always present in version 10), then the comment."""
    text = comment.encode("gb18030")
    return (bytes([frm % 9 * 10 + frm // 9 + 0x18, to % 9 * 10 + to // 9 + 0x20,
                   (0xF0 if has_next else 0) | (0x0F if has_sibling else 0), 0])
            + struct.pack("<i", len(text)) + text)


def _alternatives(line: Game | Line, index: int) -> list[tuple[Game | Line, int]]:
    """The move at ``index`` of ``line`` and, in order, the first moves of its alternatives."""
    found = [(line, index)]
    for variation in line.variations:
        if variation.ply == index and variation.moves:
            found += _alternatives(variation, 0)
    return found


def write_xqf(game: Game) -> bytes:
    """XQF (version 10, unscrambled) bytes of a game: headers, start position, result, and the
    whole move tree with its comments (a variation's comment before its first move is lost)."""
    header = bytearray(HEADER_SIZE)
    header[0:3] = MAGIC + bytes([10])
    free: dict[tuple[bool, str], list[int]] = {}  # the piece list's free slots
    for i, letter in enumerate(PIECE_LETTERS):
        free.setdefault((True, letter), []).append(i)
        free.setdefault((False, letter), []).append(i + 16)
    places = [0xFF] * 32
    board = Board(game.fen)
    for square, piece in board.squares():
        index = free[piece.color, PIECE_SYMBOLS[piece.piece_type].upper()].pop(0)
        places[index] = square % 9 * 10 + square // 9
    header[16:48] = bytes(places)
    header[50] = 0 if board.turn else 1
    header[51] = {v: k for k, v in RESULTS.items()}.get(game.result, 0)
    for offset, name in TEXT_FIELDS:
        size = 64 if offset < 272 or offset == 336 else 16
        header[offset:offset + size] = _pascal(game.headers.get(name, ""), size)
    body = bytearray(_record(0, 0, bool(game.moves), False, game.comments.get(0, "")))
    stack = [(_alternatives(game, 0), 0)] if game.moves else []
    while stack:  # pre-order: a move, then its continuation, then its alternatives
        alternatives, j = stack.pop()
        line, k = alternatives[j]
        move, has_next = line.moves[k], k + 1 < len(line.moves)
        body += _record(move.from_square, move.to_square, has_next, j + 1 < len(alternatives),
                        line.comments.get(k + 1, ""))
        if j + 1 < len(alternatives):
            stack.append((alternatives, j + 1))
        if has_next:
            stack.append((_alternatives(line, k + 1), 0))
    return bytes(header + body)
