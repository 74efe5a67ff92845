"""The bounds every record reader keeps, and the one integer parser they share.

A record from a stranger (an upload, an archive member) must cost time and memory in proportion
to its size, and never more than these bounds: a reader refuses a record beyond them with a
:class:`~xiangqi.pgn.PgnError` that names the bound.
"""

from __future__ import annotations

MAX_PLIES = 2000         # plies of a line from the start position (the move API's bound too)
MAX_VARIATIONS = 5000    # variations in one record, nested ones included
MAX_MOVES = 100_000      # moves in one record, all its lines together
MAX_HEADER = 1000        # characters of one header value
MAX_DIGITS = 18          # digits of an integer field; more is refused before int() reads it


def parse_int(text: str, low: int, high: int) -> int | None:
    """The integer of ``text`` if it is ASCII digits (an optional ``-`` first, leading and
    trailing blanks allowed) with a value from ``low`` to ``high``; else ``None``.

    ``str.isdigit`` accepts ``²`` and ``int`` refuses it; ``int`` refuses 4,300 digits and more:
    this refuses both, and anything out of range, without raising.

    >>> parse_int("12", 1, 99), parse_int("²", 0, 9), parse_int("9" * 5000, 0, 9), parse_int("-1", 0, 9)
    (12, None, None, None)
    """
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(digits) > MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


class RecordSize:
    """Counts a record's moves and variations while it is read; :meth:`move` and
    :meth:`variation` return the reason when a bound is passed, else ``None``."""

    def __init__(self) -> None:
        self.moves = 0
        self.variations = 0

    def move(self, ply: int) -> str | None:
        """Count one move, the ``ply``-th of its line from the start position."""
        self.moves += 1
        if ply > MAX_PLIES:
            return f"record too long: a line of more than {MAX_PLIES} plies"
        if self.moves > MAX_MOVES:
            return f"record too long: more than {MAX_MOVES} moves in all its lines"
        return None

    def variation(self) -> str | None:
        """Count one variation."""
        self.variations += 1
        if self.variations > MAX_VARIATIONS:
            return f"record too large: more than {MAX_VARIATIONS} variations"
        return None


def header_error(headers: dict[str, str]) -> str | None:
    """The reason a header value is too long (more than :data:`MAX_HEADER` characters), or ``None``."""
    for name, value in headers.items():
        if len(value) > MAX_HEADER:
            return f"header too long: {name[:40]} has {len(value)} characters (limit {MAX_HEADER})"
    return None
