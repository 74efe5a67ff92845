"""Reading and writing xiangqi PGN.

The reader takes single- and multi-game files in UTF-8 (with or without BOM), GB18030/GBK or
Big5, headers, set-up positions from the ``FEN`` header, move numbers, ``{}`` and ``;``
comments, ``()`` variations (skipped, the main line kept) and moves in any notation that
:func:`xiangqi.notation.parse_move` understands. Every move is replayed on a :class:`Board`;
a game with a move that cannot be parsed or is illegal is reported with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from .core import STARTING_FEN, Board, Move, XiangqiError
from .notation import detect_notation, parse_move, render_move

RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
_HEADER_RE = re.compile(r'^\s*\[\s*([A-Za-z0-9_]+)\s+"(.*)"\s*\]\s*$')
_MOVE_NUMBER_RE = re.compile(r"^\d+\s*\.+")
_ANNOTATION_RE = re.compile(r"[!?]+$")
_TRAD_CHARS = set("車馬進後帥將砲傌俥")
_SIMP_CHARS = set("车马进后帅将")
_COMMON_CHARS = set("兵卒炮相象仕士平退一二三四五六七八九前中")


class PgnError(XiangqiError):
    """A game that cannot be read: where it is and why."""

    def __init__(self, reason: str, *, source: str = "", game: int = 0, ply: Optional[int] = None,
                 text: str = "") -> None:
        self.reason, self.source, self.game, self.ply, self.text = reason, source, game, ply, text
        where = f"{source or '<text>'} game {game}"
        if ply is not None:
            where += f" ply {ply}"
        super().__init__(f"{where}: {reason}" + (f" ({text!r})" if text else ""))

    @property
    def kind(self) -> str:
        """A short category for counting rejections."""
        return self.reason.split(":")[0]


@dataclass
class Game:
    """A game record: headers, the start position and the main line."""

    headers: dict[str, str] = field(default_factory=dict)
    fen: str = STARTING_FEN
    moves: list[Move] = field(default_factory=list)
    result: str = "*"
    notation: str = "iccs"

    def board(self) -> Board:
        """The start position."""
        return Board(self.fen)

    def end_board(self) -> Board:
        """The final position, with the moves on its stack."""
        b = Board(self.fen)
        for m in self.moves:
            b.push(m)
        return b


def decode_bytes(data: bytes) -> str:
    """Decode PGN bytes in UTF-8 (BOM or not), GB18030/GBK or Big5."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best, best_score = None, -1
    for enc, own in (("big5", _TRAD_CHARS), ("gb18030", _SIMP_CHARS)):
        text = data.decode(enc, errors="replace")
        score = sum(ch in own or ch in _COMMON_CHARS for ch in text) - 5 * text.count("\ufffd")
        if score > best_score:
            best, best_score = text, score
    return best or ""


def split_games(text: str) -> list[tuple[dict[str, str], str]]:
    """Split PGN text into (headers, movetext) pairs."""
    games: list[tuple[dict[str, str], list[str]]] = []
    headers: dict[str, str] = {}
    body: list[str] = []
    in_body = False
    for line in text.splitlines():
        m = _HEADER_RE.match(line)
        if m:
            if in_body:
                games.append((headers, body))
                headers, body, in_body = {}, [], False
            headers[m.group(1)] = m.group(2)
        elif line.strip():
            in_body = True
            body.append(line)
    if headers or body:
        games.append((headers, body))
    return [(h, "\n".join(b)) for h, b in games]


def movetext_tokens(movetext: str) -> tuple[list[str], Optional[str]]:
    """Move tokens of the main line and the result token if present."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(movetext)
    clean = []
    while i < n:
        ch = movetext[i]
        if ch == "{":
            j = movetext.find("}", i)
            i = n if j < 0 else j + 1
            clean.append(" ")
            continue
        if ch == ";":
            j = movetext.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            clean.append(ch)
        else:
            clean.append(" ") if ch == "\n" else None
        i += 1
    result = None
    for word in "".join(clean).split():
        word = _MOVE_NUMBER_RE.sub("", word)
        if not word:
            continue
        if word in RESULTS:
            result = word
            continue
        word = _ANNOTATION_RE.sub("", word)
        if word:
            out.append(word)
    return out, result


def read_game(headers: dict[str, str], movetext: str, *, source: str = "", index: int = 0) -> Game:
    """Replay one game; raises :class:`PgnError` on a bad position or move."""
    fen = headers.get("FEN", "").strip() or STARTING_FEN
    try:
        board = Board(fen)
    except XiangqiError as e:
        raise PgnError(f"bad FEN: {e}", source=source, game=index, text=fen) from None
    tokens, result = movetext_tokens(movetext)
    game = Game(headers=headers, fen=fen, result=result or headers.get("Result", "*"))
    if tokens:
        game.notation = detect_notation(tokens[0])
    for ply, tok in enumerate(tokens):
        try:
            move = parse_move(board, tok)
        except XiangqiError as e:
            kind = type(e).__name__.replace("Error", "").lower()
            raise PgnError(f"{kind} move: {e}", source=source, game=index, ply=ply, text=tok) from None
        board.push(move)
        game.moves.append(move)
    if game.result not in RESULTS:
        game.result = "*"
    return game


def read_games(text: str, *, source: str = "") -> Iterator[Game | PgnError]:
    """Every game of a PGN text: a :class:`Game`, or the :class:`PgnError` that rejected it."""
    for index, (headers, movetext) in enumerate(split_games(text)):
        if not movetext.strip() and not headers:
            continue
        try:
            yield read_game(headers, movetext, source=source, index=index)
        except PgnError as e:
            yield e


def read_pgn_file(path: str) -> list[Game | PgnError]:
    """Read every game of a PGN file (any supported encoding)."""
    with open(path, "rb") as f:
        text = decode_bytes(f.read())
    return list(read_games(text, source=str(path)))


def write_game(game: Game, notation: str = "chinese") -> str:
    """PGN text of a game with moves in ``iccs``, ``wxf``, ``chinese`` or ``chinese-traditional``."""
    headers = dict(game.headers)
    headers["Result"] = game.result
    if game.fen != STARTING_FEN:
        headers["FEN"] = game.fen
    else:
        headers.pop("FEN", None)
    headers["Format"] = {"iccs": "ICCS", "wxf": "WXF"}.get(notation, "Chinese")
    lines = [f'[{k} "{v}"]' for k, v in headers.items()]
    board = Board(game.fen)
    words = []
    for move in game.moves:
        if board.turn or not words:
            words.append(f"{board.fullmove_number}." + ("" if board.turn else ".."))
        words.append(render_move(board, move, notation))
        board.push(move)
    words.append(game.result)
    body, line = [], ""
    for w in words:
        if len(line) + len(w) + 1 > 80:
            body.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    body.append(line)
    return "\n".join(lines) + "\n\n" + "\n".join(body) + "\n"
