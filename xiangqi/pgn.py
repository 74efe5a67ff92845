"""Reading and writing xiangqi PGN.

The reader takes single- and multi-game files in UTF-8 (with or without BOM), UTF-16 with a
BOM, GB18030/GBK or Big5 (line by line, so a file mixing UTF-8 with a legacy encoding reads),
headers, set-up positions from the ``FEN`` header, move numbers (``1.``, ``1...``,
``1.炮二平五``), ``{}`` and ``;`` comments and ``()`` variations (nested too; both kept in
:attr:`Game.comments` and :attr:`Game.variations`), NAGs (``$2``, and the move suffixes ``!``, ``?``,
``!!``, ``??``, ``!?``, ``?!`` as ``$1`` to ``$6``; kept in :attr:`Game.nags`), results and moves in
any notation that :mod:`xiangqi.notation` parses. The notation is detected once per game from
its first move. Every move, in variations too, is replayed on a :class:`Board`; a game with a
move that cannot be parsed or is illegal is reported with its reason, never truncated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .base import (
    STARTING_FEN,
    AmbiguousMoveError,
    IllegalMoveError,
    InvalidMoveError,
    Move,
    XiangqiError,
)
from .core import Board, Termination
from .limits import RecordSize, header_error, parse_int
from .notation import detect_notation, parse_move, render_move

RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
NOTATIONS = ("iccs", "wxf", "chinese", "chinese-traditional")
_HEADER_RE = re.compile(r'^\s*\[\s*([A-Za-z0-9_]+)\s+"(.*)"\s*\]\s*$')
_ESCAPE_RE = re.compile(r'\\(["\\])')
_TOKEN_RE = re.compile(r"\{[^}]*\}?|;[^\n]*|[()]|[^\s{}();]+")
_MOVE_NUMBER_RE = re.compile(r"^[0-9０-９]+\s*(?:\.|．|…)+")
_ANNOTATION_RE = re.compile(r"[!?！？]+$")
_SUFFIX_NAGS = {"!": 1, "?": 2, "!!": 3, "??": 4, "!?": 5, "?!": 6}
NAG_SUFFIXES = {nag: suffix for suffix, nag in _SUFFIX_NAGS.items()}
_MOVE_ERRORS = {InvalidMoveError: "invalid move", IllegalMoveError: "illegal move",
                AmbiguousMoveError: "ambiguous move"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Characters of xiangqi move text: the right legacy decoding yields many, a wrong one few.
_MOVE_CHARS = "車车馬马進进後后帥帅將将砲炮傌俥兵卒相象仕士平退"
MAX_NAG = 255


class PgnError(XiangqiError):
    """A game that cannot be read: where it is and why."""

    def __init__(self, reason: str, *, source: str = "", game: int = 0, ply: int | None = None,
                 text: str = "") -> None:
        self.reason, self.source, self.game, self.ply, self.text = reason, source, game, ply, text
        where = f"{source or '<text>'} game {game}"
        if ply is not None:
            where += f" ply {ply}"
        super().__init__(f"{where}: {reason}" + (f" ({text[:40]!r})" if text else ""))

    @property
    def kind(self) -> str:
        """A short category for counting rejections, e.g. ``illegal move``."""
        return self.reason.split(":")[0]


@dataclass
class Line:
    """A variation: the moves played instead of its parent line's move at index ``ply``.

    ``comments[i]`` is the comment after ``moves[i - 1]`` (``comments[0]``: before the first
    move); ``nags[i]`` are the NAGs of ``moves[i]`` (2 for ``?``); ``variations`` are alternatives
    to this line's own moves, nested the same way.
    """

    ply: int
    moves: list[Move] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)
    variations: list[Line] = field(default_factory=list)
    nags: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Game:
    """A game record: headers, the start position and the main line, with the comments and
    variations (:class:`Line`) of the formats that keep them (``comments[0]``: before move 1), and
    the NAGs of the moves (``nags[i]``: of ``moves[i]``)."""

    headers: dict[str, str] = field(default_factory=dict)
    fen: str = STARTING_FEN
    moves: list[Move] = field(default_factory=list)
    result: str = "*"
    notation: str = "iccs"
    comments: dict[int, str] = field(default_factory=dict)
    variations: list[Line] = field(default_factory=list)
    nags: dict[int, list[int]] = field(default_factory=dict)

    def board(self) -> Board:
        """The start position."""
        return Board(self.fen)

    def end_board(self) -> Board:
        """The final position, with the moves on its stack."""
        b = Board(self.fen)
        for m in self.moves:
            b.push(m)
        return b


def replay(fen: str, moves: Iterable[str]) -> Board:
    """The board after ICCS ``moves`` from ``fen``, with the moves on its stack. A bad FEN or move
    raises its :class:`XiangqiError`; a move's message names it as ``moves[i]``."""
    board = Board(fen)
    for i, text in enumerate(moves):
        try:
            board.push(Move.from_uci(text))
        except XiangqiError as e:
            raise type(e)(f"moves[{i}]: {e}") from None
    return board


def _legacy_encoding(data: bytes) -> str:
    """``cp950`` (Big5) or ``gb18030``: whichever decodes ``data`` into more move characters."""
    scores = {}
    for enc in ("cp950", "gb18030"):
        text = data.decode(enc, errors="replace")
        scores[enc] = sum(text.count(ch) for ch in _MOVE_CHARS) - 5 * text.count("\ufffd")
    return max(scores, key=scores.__getitem__)


def decode_bytes(data: bytes) -> str:
    """Decode PGN bytes: a BOM wins; else UTF-8, with non-UTF-8 lines read as Big5 or GB18030."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    legacy = [line for line in lines if not _is_utf8(line)]
    enc = _legacy_encoding(b"\n".join(legacy))
    return "\n".join(line.decode("utf-8") if _is_utf8(line) else line.decode(enc, errors="replace")
                     for line in lines)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def split_games(text: str) -> list[tuple[dict[str, str], str]]:
    """Split PGN text into (headers, movetext) pairs; a header after movetext starts a game.

    A header key given twice before the movetext keeps its last value (as python-chess does), so
    a repeated ``[Event]`` never splits one game's headers from its moves."""
    games: list[tuple[dict[str, str], list[str]]] = []
    headers: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        m = _HEADER_RE.match(line) if line.lstrip().startswith("[") else None
        if m:
            if body:
                games.append((headers, body))
                headers, body = {}, []
            headers[m.group(1)] = _ESCAPE_RE.sub(r"\1", m.group(2))
        elif line.strip() and not line.startswith("%"):
            body.append(line)
    if headers or body:
        games.append((headers, body))
    return [(h, "\n".join(b)) for h, b in games]


def movetext_events(movetext: str) -> Iterator[tuple[str, str]]:
    """Every token of movetext as ``(kind, text)``: ``move``, ``result``, ``comment`` (its
    text), ``nag`` (its number: ``$2`` or a move's suffix ``?``), ``open`` and ``close`` (a
    variation's parentheses), and ``error`` for an unterminated comment or unbalanced variation
    (then it stops). A result outside variations ends the game: the text after it, up to the next
    game's headers, is not read (象棋巫师 and other tools write a site's footer there)."""
    depth = 0
    for m in _TOKEN_RE.finditer(movetext):
        tok = m.group()
        if tok[0] == "{":
            if not tok.endswith("}"):
                yield "error", "unterminated comment: '{' never closed"
                return
            yield "comment", tok[1:-1].strip()
        elif tok[0] == ";":
            yield "comment", tok[1:].strip()
        elif tok == "(":
            depth += 1
            yield "open", tok
        elif tok == ")":
            if depth == 0:
                yield "error", "unbalanced variation: ')' without '('"
                return
            depth -= 1
            yield "close", tok
        else:
            word = _MOVE_NUMBER_RE.sub("", tok)
            suffix = _ANNOTATION_RE.search(word)
            word = _ANNOTATION_RE.sub("", word)
            if word[1:].isdigit() and word[0] == "$":
                if parse_int(word[1:], 0, MAX_NAG) is None:
                    yield "error", f"bad NAG: {word[:12]} (NAGs are $0 to ${MAX_NAG})"
                    return
                yield "nag", word[1:]
            elif word in RESULTS:
                yield "result", word
                if depth == 0:  # the game ends here: what follows (a site's footer) is no movetext
                    return
            elif word and word[0] != "$":
                yield "move", word
                nag = suffix and _SUFFIX_NAGS.get(suffix.group().replace("！", "!").replace("？", "?"))
                if nag:
                    yield "nag", str(nag)
    if depth:
        yield "error", "unbalanced variation: '(' never closed"


def iter_movetext(movetext: str) -> Iterator[tuple[str, str]]:
    """``("move", text)`` for each main-line move, ``("result", text)`` for a result and
    ``("error", reason)`` for an unterminated comment or unbalanced variation (then it stops),
    so that a damaged record is rejected rather than cut short."""
    depth = 0
    for kind, word in movetext_events(movetext):
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "error" or (depth == 0 and kind not in ("comment", "nag")):
            yield kind, word


def movetext_tokens(movetext: str) -> tuple[list[str], str | None]:
    """Move tokens of the main line and the last result token if present."""
    moves, result = [], None
    for kind, word in iter_movetext(movetext):
        if kind == "error":
            raise PgnError(word)
        if kind == "result":
            result = word
        else:
            moves.append(word)
    return moves, result


def read_game(headers: dict[str, str], movetext: str, *, source: str = "", index: int = 0) -> Game:
    """Replay one game; raises :class:`PgnError` on a bad position, move or movetext."""
    fen_text = headers.get("FEN", "").strip()
    try:
        board = Board(fen_text or STARTING_FEN)
    except XiangqiError as e:
        raise PgnError(f"bad FEN: {e}", source=source, game=index, text=fen_text) from None
    if reason := header_error(headers):
        raise PgnError(reason, source=source, game=index)
    game = Game(headers=headers, fen=board.fen(), result=headers.get("Result", "*"))
    if game.result not in RESULTS:
        game.result = "*"
    notation = None
    line: Game | Line = game
    base = 0  # the plies before the first move of ``line``
    size = RecordSize()
    # The lines the open variations left, each with the move the variation replaces: one board
    # walks the tree, taking a line's last move back when a variation opens and replaying it when
    # the variation closes.
    outer: list[tuple[Game | Line, int, Move]] = []
    for kind, word in movetext_events(movetext):
        if kind == "error":
            raise PgnError(word, source=source, game=index, ply=len(game.moves) + 1)
        if kind == "result":
            if not outer:
                game.result = word
        elif kind == "comment":
            at = len(line.moves)
            if word:
                line.comments[at] = f"{line.comments[at]}\n{word}" if at in line.comments else word
        elif kind == "nag":
            if line.moves:
                line.nags.setdefault(len(line.moves) - 1, []).append(int(word))
        elif kind == "open":  # an alternative to the line's last move
            if not line.moves:
                raise PgnError("bad variation: '(' before any move", source=source, game=index,
                               ply=len(game.moves) + 1)
            if reason := size.variation():
                raise PgnError(reason, source=source, game=index, ply=len(game.moves) + 1)
            outer.append((line, base, board.pop()))
            base += len(line.moves) - 1
            line.variations.append(Line(ply=len(line.moves) - 1))
            line = line.variations[-1]
        elif kind == "close":
            variation = line
            for _ in variation.moves:
                board.pop()
            line, base, replaced = outer.pop()
            board.push(replaced)
            if not variation.moves and not variation.comments:
                line.variations.pop()
        else:
            notation = notation or detect_notation(word)
            if reason := size.move(base + len(line.moves) + 1):
                raise PgnError(reason, source=source, game=index, ply=base + len(line.moves) + 1)
            try:
                move = parse_move(board, word, notation)
            except XiangqiError as e:
                where = " in a variation" if outer else ""
                reason = f"{_MOVE_ERRORS.get(type(e), 'invalid move')}{where}: {e}"
                raise PgnError(reason, source=source, game=index, ply=base + len(line.moves) + 1,
                               text=word) from None
            board.push(move)
            line.moves.append(move)
    game.notation = notation or "iccs"
    return game


def read_games(text: str, *, source: str = "") -> Iterator[Game | PgnError]:
    """Every game of a PGN text: a :class:`Game`, or the :class:`PgnError` that rejected it."""
    if "\x00" in text:
        yield PgnError("binary data: not a PGN text file", source=source)
        return
    for index, (headers, movetext) in enumerate(split_games(text)):
        try:
            yield read_game(headers, movetext, source=source, index=index)
        except PgnError as e:
            yield e


def read_pgn_file(path: str) -> list[Game | PgnError]:
    """Read every game of a PGN file (any supported encoding)."""
    with open(path, "rb") as f:
        text = decode_bytes(f.read())
    return list(read_games(text, source=str(path)))


def _header_line(key: str, value: str) -> str:
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'[{key} "{value}"]'


def _comment(text: str) -> str:
    return "{" + text.replace("}", ")") + "}"


@dataclass
class _Writing:
    """A line being written by :func:`_line_words`: its next move, the move number and side of
    that move, and the variations of the move just written that are still to come."""

    line: Game | Line
    red_to_move: bool
    number: int
    start: int  # the index of the line's first word
    by_ply: dict[int, list[Line]]
    i: int = 0
    numbered: bool = False  # whether the next move needs no number of its own
    alternatives: list[Line] = field(default_factory=list)
    replaced: Move | None = None  # the move just written: on the board once its variations are


def _writing(line: Game | Line, red_to_move: bool, number: int, words: list[str]) -> _Writing:
    by_ply: dict[int, list[Line]] = {}
    for variation in line.variations:
        if variation.moves:
            by_ply.setdefault(variation.ply, []).append(variation)
    if line.comments.get(0):
        words.append(_comment(line.comments[0]))
    return _Writing(line, red_to_move, number, len(words) - bool(line.comments.get(0)), by_ply)


def _line_words(game: Game, board: Board | None, red_to_move: bool, number: int,
                notation: str, words: list[str]) -> None:
    """Append a game's moves (rendered on ``board``; ICCS without one), comments and
    variations, each variation in parentheses after the move it replaces. A stack of lines, not
    recursion, and one board that takes moves back: variations nest as deep as a record has them."""
    stack = [_writing(game, red_to_move, number, words)]
    while stack:
        w = stack[-1]
        if w.alternatives:  # the next variation of the move just written, from the position before it
            variation = w.alternatives.pop()
            stack.append(_writing(variation, w.red_to_move, w.number, words))
            continue
        if w.replaced is not None:  # the move and its variations are written
            if board is not None:
                board.push(w.replaced)
            w.replaced = None
            w.number += not w.red_to_move
            w.red_to_move = not w.red_to_move
        if w.i == len(w.line.moves):
            stack.pop()
            if stack:  # a variation: back to the position it started from, in parentheses
                if board is not None:
                    for _ in w.line.moves:
                        board.pop()
                words[w.start] = "(" + words[w.start]
                words[-1] += ")"
                stack[-1].numbered = False
            continue
        i, move, line = w.i, w.line.moves[w.i], w.line
        text = move.uci() if board is None else render_move(board, move, notation)
        nags = line.nags.get(i, [])
        if nags and nags[0] in NAG_SUFFIXES:  # the first as the move's suffix, e.g. 炮二平五?
            text += NAG_SUFFIXES[nags[0]]
            nags = nags[1:]
        if w.red_to_move:
            text = f"{w.number}. {text}"
        elif not w.numbered:
            text = f"{w.number}... {text}"
        words.append(text)
        words.extend(f"${nag}" for nag in nags)
        w.numbered = True
        if line.comments.get(i + 1):
            words.append(_comment(line.comments[i + 1]))
            w.numbered = False
        w.i, w.replaced = i + 1, move
        w.alternatives = w.by_ply.get(i, [])[::-1]  # popped from the end: in order


def write_game(game: Game, notation: str = "chinese") -> str:
    """PGN text of a game with moves in ``iccs``, ``wxf``, ``chinese`` or ``chinese-traditional``,
    with its comments (``{}``), variations (``()``) and NAGs (``$1`` to ``$6`` as suffixes: ``?``)."""
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}")
    headers = dict(game.headers)
    headers["Result"] = game.result
    if Board(game.fen).fen() != STARTING_FEN:  # the counters count too: they decide the move limit
        headers["FEN"] = game.fen
    else:
        headers.pop("FEN", None)
    headers["Format"] = {"iccs": "ICCS", "wxf": "WXF"}.get(notation, "Chinese")
    lines = [_header_line(k, v) for k, v in headers.items()]
    fields = game.fen.split()
    red_to_move = len(fields) < 2 or fields[1] != "b"
    number = int(fields[5]) if len(fields) > 5 else 1
    board = Board(game.fen) if notation != "iccs" else None
    words: list[str] = []  # each move with its number, so a line never ends on "12."
    _line_words(game, board, red_to_move, number, notation, words)
    if game.result in ("1-0", "0-1") and not game.comments.get(len(game.moves)):
        outcome = (board or game.end_board()).outcome()  # ``board`` is at the end when there is one
        if outcome and outcome.termination == Termination.PERPETUAL_CHASE and outcome.result() == game.result:
            words.append(_comment(outcome.describe()))  # who chased what
    words.append(game.result)
    body, line = [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > 80:
            body.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    body.append(line)
    return "\n".join(lines) + "\n\n" + "\n".join(body) + "\n"
