"""Reading a game record file in any supported format, told by its content (then its name).

PGN (:mod:`xiangqi.pgn`), XQF (:mod:`xiangqi.xqf`), CBR, CBL and CBF (:mod:`xiangqi.cbr`) and
DhtmlXQ/UBB text (:mod:`xiangqi.dhtmlxq`): every reader yields the same :class:`Game` objects,
or the :class:`PgnError` saying why a game cannot be read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .cbr import LIBRARY_MAGIC, RECORD_MAGIC, read_cbf, read_cbl, read_cbr
from .dhtmlxq import is_dhtmlxq, read_dhtmlxq
from .pgn import Game, PgnError, decode_bytes, read_games
from .xqf import MAGIC as XQF_MAGIC
from .xqf import read_xqf

# Names of the files that folders and archives are searched for.
RECORD_SUFFIXES = (".pgn", ".pgns", ".xqf", ".cbr", ".cbl", ".cbf", ".dhtmlxq", ".dhtmlxq.txt",
                   ".ubb")


def is_record_name(name: str) -> bool:
    """Whether a file name has the suffix of a supported record format."""
    return name.lower().endswith(RECORD_SUFFIXES)


def _one(read, data: bytes, source: str) -> Iterator[Game | PgnError]:
    try:
        yield read(data, source=source)
    except PgnError as e:
        yield e


def read_any(name: str, data: bytes) -> Iterator[Game | PgnError]:
    """Every game of a record file's bytes, whatever the format: a :class:`Game`, or the
    :class:`PgnError` that rejected it; ``name`` is for messages and, when the content does not
    say, the format. A reader that fails in an unforeseen way rejects the rest of the file with a
    :class:`PgnError` too (``unreadable record``), so one bad file never stops a batch or a
    request."""
    try:
        yield from _read_any(name, data)
    except (ArithmeticError, LookupError, ValueError, RecursionError, struct.error) as e:
        yield PgnError(f"unreadable record: {type(e).__name__}: {e}"[:300], source=name)


def _read_any(name: str, data: bytes) -> Iterator[Game | PgnError]:
    lower = name.lower()
    if data.startswith(RECORD_MAGIC):
        yield from _one(read_cbr, data, name)
    elif data.startswith(LIBRARY_MAGIC) or lower.endswith(".cbl"):
        yield from read_cbl(data, source=name)
    elif data.startswith(XQF_MAGIC) or lower.endswith(".xqf"):
        yield from _one(read_xqf, data, name)
    elif lower.endswith(".cbr"):
        yield from _one(read_cbr, data, name)
    else:
        text = decode_bytes(data)
        head = text.lstrip("\ufeff \t\r\n")[:400]
        if head.startswith("<") and "<ChineseChessRecord" in head or lower.endswith(".cbf"):
            yield from _one(read_cbf, data, name)
        elif is_dhtmlxq(text):
            yield from read_dhtmlxq(text, source=name)
        else:
            yield from read_games(text, source=name)


def read_file(path: str) -> list[Game | PgnError]:
    """Every game of a record file (any supported format)."""
    with open(path, "rb") as f:
        return list(read_any(str(path), f.read()))
