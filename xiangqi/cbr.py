"""Reading 象棋桥 (CCBridge) records: CBR (one game) and CBL (a library of games).

CBR layout (little-endian, text in UTF-16LE, ended by a zero character; see docs/formats.md):

- ``CCBridge Record\\0``, then at fixed offsets the title (180), event (692), Red (1076) and
  Black (1300), the result byte (2076: 1 Red wins, 2 Black wins, 3 or 4 draw), the side to
  move (2116: 1 Red) and the board (2120: 90 bytes from Black's back rank, ``0x11``..``0x17``
  Red's chariot, horse, elephant, advisor, general, cannon, soldier, ``0x21``..``0x27`` Black's).
- From 2214 the move tree in pre-order: the root record (the start position, often all
  zero), then one record per move: flags (1: the line ends here, 2: an alternative to this
  move follows its line, 4: a comment follows), a zero byte, the origin and target squares
  (0..89 from Black's back rank); a comment is a 32-bit byte length and the text. Four zero
  bytes or the end of the data end the tree.

A CBL library starts with ``CCBridgeLibrary\\0``, its capacity (60) and the library name
(64); its games are CBR records, each starting on a 4096-byte block. An entry with an empty
board is a section title, not a game.

CBF is the XML form: ``<ChineseChessRecord>`` with a ``<Head>`` (``Name``, ``Contest``, ``Date``,
``Site``, ``Round``, ``Red``, ``Black``, ``RecordResult`` 0..3, ``FEN``) and a ``<MoveList>`` of
``<Move value="XY-XY">`` (file, row from Black's side), the first ``00-00`` standing for the
start position, each with its comment as text.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from xml.parsers import expat

from .base import Move
from .limits import RecordSize, header_error, parse_int
from .movetree import Record, placement_fen, replay_tree, start_board
from .pgn import Game, PgnError

RECORD_MAGIC = b"CCBridge Record\x00"
LIBRARY_MAGIC = b"CCBridgeLibrary\x00"
HEADER_SIZE = 2214
BLOCK = 4096
PIECES = {0x11: "R", 0x12: "N", 0x13: "B", 0x14: "A", 0x15: "K", 0x16: "C", 0x17: "P"}
RESULTS = {1: "1-0", 2: "0-1", 3: "1/2-1/2", 4: "1/2-1/2"}
TEXT_FIELDS = ((180, 128, "Title"), (692, 64, "Event"), (1076, 64, "Red"), (1300, 64, "Black"))
MAX_COMMENT = 1 << 20


def _text(data: bytes) -> str:
    for i in range(0, len(data) - 1, 2):
        if data[i:i + 2] == b"\x00\x00":
            data = data[:i]
            break
    return data.decode("utf-16-le", errors="replace").replace("\r\n", "\n").strip()


def _square(index: int) -> int:
    """Square of a CBR board index (row 0 is Black's back rank); -1 if off the board."""
    return (9 - index // 9) * 9 + index % 9 if 0 <= index < 90 else -1


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.pos, self.source = data, HEADER_SIZE, source

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PgnError(f"truncated file: a move record runs past the end ({len(self.data)} "
                           "bytes)", source=self.source)
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def at_end(self) -> bool:
        return self.pos + 4 > len(self.data) or self.data[self.pos:self.pos + 4] == bytes(4)

    def record(self) -> Record:
        flags, _, origin, target = self.read(4)
        comment = ""
        if flags & 4:
            length = struct.unpack("<i", self.read(4))[0]
            if not 0 <= length <= MAX_COMMENT:
                raise PgnError(f"bad comment length: {length} at byte {self.pos - 4}",
                               source=self.source)
            comment = _text(self.read(length))
        # A line that ends where the data ends needs no flag.
        has_next = not flags & 1 and not (self.at_end() and not flags & 2)
        return Record(_square(origin), _square(target), comment, has_next, bool(flags & 2))


def read_cbr(data: bytes, *, source: str = "", index: int = 0) -> Game:
    """The game of a CBR record's bytes; raises :class:`PgnError` with the reason it cannot be
    read (wrong magic, truncated file, bad position, illegal move)."""
    if not data.startswith(RECORD_MAGIC):
        raise PgnError("not a CBR file: no 'CCBridge Record' magic", source=source, game=index)
    if len(data) < HEADER_SIZE:
        raise PgnError(f"truncated file: {len(data)} bytes, the header alone has {HEADER_SIZE}",
                       source=source, game=index)
    headers = {name: text for offset, size, name in TEXT_FIELDS
               if (text := _text(data[offset:offset + size]))}
    result = RESULTS.get(data[2076], "*")
    headers["Result"] = result
    pieces = {}
    for i, code in enumerate(data[2120:2210]):
        if code >> 4 in (1, 2) and code & 0xF in range(1, 8):
            letter = PIECES[0x10 | code & 0xF]
            pieces[_square(i)] = letter if code >> 4 == 1 else letter.lower()
    if not pieces:
        raise PgnError("no game: an empty board (a library's section title)", source=source,
                       game=index)
    red_to_move = struct.unpack("<H", data[2116:2118])[0] == 1
    game = Game(headers=headers, fen=placement_fen(pieces, red_to_move), result=result)
    reader = _Reader(data, source)
    if len(data) < HEADER_SIZE + 4:
        return replay_tree(game, reader.record, False, source=source, index=index)
    root = reader.record()
    if root.comment:
        game.comments[0] = root.comment
    return replay_tree(game, reader.record, root.has_next, source=source, index=index)


def read_cbl(data: bytes, *, source: str = "") -> Iterator[Game | PgnError]:
    """Every game of a CBL library's bytes: a :class:`Game`, or the :class:`PgnError` that
    rejected it (one, for the whole file, if it is no library or holds no game)."""
    if not data.startswith(LIBRARY_MAGIC):
        yield PgnError("not a CBL file: no 'CCBridgeLibrary' magic", source=source)
        return
    start = data.find(RECORD_MAGIC)
    if start < 0:
        yield PgnError("no game: the library holds no record", source=source)
        return
    index = 0
    for pos in range(start, len(data), BLOCK):
        if data.startswith(RECORD_MAGIC, pos):
            end = data.find(RECORD_MAGIC, pos + BLOCK)
            try:
                yield read_cbr(data[pos:end if end >= 0 else len(data)], source=source,
                               index=index)
            except PgnError as e:
                yield e
            index += 1


CBF_HEADERS = {"Name": "Title", "Contest": "Event", "Date": "Date", "Site": "Site",
               "Round": "Round", "Red": "Red", "Black": "Black", "ECCO": "ECCO",
               "Commentator": "Annotator"}
_CBF_MOVE_RE = re.compile(r"([0-9])([0-9])-([0-9])([0-9])")


class _DtdError(Exception):
    """A document type declaration: its entities could make a small file a huge text."""


def _refuse_dtd(data: bytes) -> None:
    """Raise :class:`_DtdError` if the XML declares a document type, whatever its encoding (an
    expat pass that stops at the declaration, before any entity is expanded); an expat error on
    bad XML."""
    def refuse(*_args) -> None:
        raise _DtdError

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.Parse(data, True)


def read_cbf(data: bytes, *, source: str = "") -> Game:
    """The game of a CBF (XML) file's bytes: headers, start position, main line and comments;
    raises :class:`PgnError` with the reason it cannot be read."""
    try:
        _refuse_dtd(data)
        root = ET.fromstring(data)
    except (ET.ParseError, expat.ExpatError, LookupError, ValueError) as e:  # bad XML, encoding or bytes
        raise PgnError(f"not a CBF file: bad XML ({e})", source=source) from None
    except _DtdError:
        raise PgnError("not a CBF file: XML with a DOCTYPE or entities", source=source) from None
    if root.tag != "ChineseChessRecord":
        raise PgnError(f"not a CBF file: root element <{root.tag}>", source=source)
    head = root.find("Head")
    fields = {e.tag: (e.text or "").strip() for e in (head if head is not None else [])}
    headers = {name: fields[tag] for tag, name in CBF_HEADERS.items() if fields.get(tag)}
    if reason := header_error(headers):
        raise PgnError(reason, source=source)
    result = RESULTS.get(parse_int(fields.get("RecordResult", ""), 0, 9) or 0, "*")
    headers["Result"] = result
    game = Game(headers=headers, result=result)
    if fields.get("FEN"):
        game.fen = fields["FEN"]
    board = start_board(game, source)
    size = RecordSize()
    for i, element in enumerate(root.iterfind("MoveList/Move")):
        comment = (element.text or "").strip()
        m = _CBF_MOVE_RE.fullmatch(element.get("value", ""))
        if m is None:
            raise PgnError(f"invalid move: value {element.get('value')!r}", source=source,
                           ply=len(game.moves) + 1)
        x1, y1, x2, y2 = map(int, m.groups())
        if i == 0 and (x1, y1, x2, y2) == (0, 0, 0, 0):
            if comment:
                game.comments[0] = comment
            continue
        if reason := size.move(len(game.moves) + 1):
            raise PgnError(reason, source=source, ply=len(game.moves) + 1)
        move = Move((9 - y1) * 9 + x1, (9 - y2) * 9 + x2) if x1 < 9 and x2 < 9 else None
        if move is None or not board.is_legal(move):
            text = move.uci() if move else m.group()
            raise PgnError(f"illegal move: {text} in {board.fen()}", source=source,
                           ply=len(game.moves) + 1, text=text)
        board.push(move)
        game.moves.append(move)
        if comment:
            game.comments[len(game.moves)] = comment
    return game
