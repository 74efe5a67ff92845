"""Move notation: ICCS/UCI, WXF and Chinese (simplified and traditional), parse and render.

WXF and Chinese describe a move by piece, file, action and number, so both need the position.
Files are counted from the mover's right: Red's file 1 is ``i``, Black's file 1 is ``a``.
Identical pieces on one file are told apart by front/rear (``前``/``后``, ``+``/``-``); three
or more soldiers on a file by ``前中后`` or by ordinals ``一二三四五`` counted from the front
(WXF: ``1``..``5`` before the letter). When two files each hold several soldiers the file is
kept as well (``前七进一``, ``+P7+1``). Parsing is lenient: the legal move that fits the text
is chosen, and the text is rejected when none or several fit.
"""

from __future__ import annotations

import re

from .base import (
    ADVISOR,
    CANNON,
    CHARIOT,
    ELEPHANT,
    GENERAL,
    HORSE,
    RED,
    SOLDIER,
    AmbiguousMoveError,
    Color,
    IllegalMoveError,
    InvalidMoveError,
    Move,
    PieceType,
    Square,
    square,
    square_file,
    square_rank,
)
from .core import Board

CN_NUMERALS = "一二三四五六七八九"
FULLWIDTH_DIGITS = "１２３４５６７８９"

RED_NAMES = {GENERAL: "帅", ADVISOR: "仕", ELEPHANT: "相", HORSE: "马", CHARIOT: "车",
             CANNON: "炮", SOLDIER: "兵"}
BLACK_NAMES = {GENERAL: "将", ADVISOR: "士", ELEPHANT: "象", HORSE: "马", CHARIOT: "车",
               CANNON: "炮", SOLDIER: "卒"}
CN_PIECES = {"帅": GENERAL, "将": GENERAL, "帥": GENERAL, "將": GENERAL,
             "仕": ADVISOR, "士": ADVISOR,
             "相": ELEPHANT, "象": ELEPHANT,
             "马": HORSE, "馬": HORSE, "傌": HORSE, "碼": HORSE,
             "车": CHARIOT, "車": CHARIOT, "俥": CHARIOT, "伡": CHARIOT,
             "炮": CANNON, "砲": CANNON, "包": CANNON,
             "兵": SOLDIER, "卒": SOLDIER}
CN_ACTIONS = {"进": "+", "進": "+", "退": "-", "平": "="}
CN_TANDEM = {"前": "+", "中": "=", "后": "-", "後": "-"}
TO_TRADITIONAL = str.maketrans({"车": "車", "马": "馬", "帅": "帥", "将": "將", "进": "進",
                                "后": "後"})

WXF_LETTERS = {"K": GENERAL, "A": ADVISOR, "E": ELEPHANT, "B": ELEPHANT, "H": HORSE, "N": HORSE,
               "R": CHARIOT, "C": CANNON, "P": SOLDIER}
WXF_NAMES = {GENERAL: "K", ADVISOR: "A", ELEPHANT: "E", HORSE: "H", CHARIOT: "R", CANNON: "C",
             SOLDIER: "P"}
STRAIGHT_MOVERS = (GENERAL, CHARIOT, CANNON, SOLDIER)

_FULLWIDTH = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "})
_ICCS_RE = re.compile(r"^[a-iA-I][0-9]-?[a-iA-I][0-9]$")
_WXF_RE = re.compile(r"^(?P<pre>[+\-1-5])?(?P<piece>[KAEBHNRCP])(?P<file>[1-9]|[+\-])?"
                     r"(?P<op>[+\-=.])(?P<num>[1-9])$")


def to_halfwidth(text: str) -> str:
    """Replace full-width ASCII forms (``Ｃ２＝５``) by plain ASCII."""
    return text.translate(_FULLWIDTH)


# ---------------------------------------------------------------------------
# Geometry shared by both descriptive notations.

def _file_number(color: Color, file: int) -> int:
    """File 1..9 counted from the mover's right."""
    return 9 - file if color == RED else file + 1


def _file_index(color: Color, number: int) -> int:
    return 9 - number if color == RED else number - 1


def _forward(color: Color) -> int:
    return 1 if color == RED else -1


def _advancement(color: Color, sq: Square) -> int:
    """How far forward a square is from the mover's side (larger is further front)."""
    return square_rank(sq) if color == RED else 9 - square_rank(sq)


def _destination(color: Color, piece_type: PieceType, frm: Square, op: str, num: int) -> Square | None:
    """The target square described by action ``op`` (+ - =) and ``num``, or None if impossible."""
    f, r = square_file(frm), square_rank(frm)
    fwd = _forward(color)
    if op == "=":
        if piece_type not in STRAIGHT_MOVERS:
            return None
        nf, nr = _file_index(color, num), r
    elif piece_type in STRAIGHT_MOVERS:
        nf, nr = f, r + (num if op == "+" else -num) * fwd
    else:
        nf = _file_index(color, num)
        df = abs(nf - f)
        if piece_type == HORSE:
            dr = {1: 2, 2: 1}.get(df)
        elif piece_type == ELEPHANT:
            dr = 2 if df == 2 else None
        else:
            dr = 1 if df == 1 else None
        if dr is None:
            return None
        nr = r + (dr if op == "+" else -dr) * fwd
    if not (0 <= nf < 9 and 0 <= nr < 10):
        return None
    return square(nf, nr)


def _describe(board: Board, move: Move) -> tuple[PieceType, str, int | None, int, str, int]:
    """(piece type, tandem marker, file number or None, tandem count, action, number) of a move."""
    piece = board.piece_at(move.from_square)
    if piece is None or piece.color != board.turn:
        raise IllegalMoveError(f"no piece of the side to move on {move.uci()[:2]}")
    color, t = piece.color, piece.piece_type
    frm, to = move.from_square, move.to_square
    code = board.piece_code_at(frm)
    same_file = [sq for sq in range(square_file(frm), 90, 9) if board.piece_code_at(sq) == code]
    same_file.sort(key=lambda sq: -_advancement(color, sq))
    dr = (square_rank(to) - square_rank(frm)) * _forward(color)
    if dr == 0:
        op, num = "=", _file_number(color, square_file(to))
    else:
        op = "+" if dr > 0 else "-"
        num = abs(dr) if t in STRAIGHT_MOVERS else _file_number(color, square_file(to))
    file_no = _file_number(color, square_file(frm))
    if len(same_file) < 2:
        return t, "", file_no, 1, op, num
    pos = same_file.index(frm)
    files_with_tandems = {square_file(sq) for sq in board.pieces(t, color)
                          if sum(square_file(o) == square_file(sq) for o in board.pieces(t, color)) > 1}
    keep_file = file_no if len(files_with_tandems) > 1 else None
    return t, str(pos), keep_file, len(same_file), op, num


def _tandem_position(marker: str, count: int) -> int | None:
    """Index from the front selected by a tandem marker ('+', '-', '=' or '1'..'5')."""
    if marker == "+":
        return 0
    if marker == "-":
        return count - 1
    if marker == "=":
        return 1 if count == 3 else None
    n = int(marker) - 1
    return n if n < count else None


def _resolve(board: Board, piece_type: PieceType, tandem: str | None, file_no: int | None,
             op: str, num: int, text: str) -> Move:
    """The unique legal move matching a descriptive move."""
    color = board.turn
    own = board.pieces(piece_type, color)
    sources: list[Square] = []
    if tandem is None:
        if file_no is None:
            raise InvalidMoveError(f"move {text!r} names no file")
        sources = [sq for sq in own if square_file(sq) == _file_index(color, file_no)]
    else:
        by_file: dict[int, list[Square]] = {}
        for sq in own:
            by_file.setdefault(square_file(sq), []).append(sq)
        for f, group in by_file.items():
            if len(group) < 2 or (file_no is not None and f != _file_index(color, file_no)):
                continue
            group.sort(key=lambda sq: -_advancement(color, sq))
            pos = _tandem_position(tandem, len(group))
            if pos is not None:
                sources.append(group[pos])
    if not sources:
        raise IllegalMoveError(f"no piece matches {text!r} in {board.fen()}")
    matches = []
    for frm in sources:
        to = _destination(color, piece_type, frm, op, num)
        if to is not None and board.is_legal(Move(frm, to)):
            matches.append(Move(frm, to))
    if not matches:
        raise IllegalMoveError(f"move {text!r} is illegal in {board.fen()}")
    if len(matches) > 1:
        raise AmbiguousMoveError(f"move {text!r} is ambiguous in {board.fen()}")
    return matches[0]


# ---------------------------------------------------------------------------
# WXF.

def parse_wxf(board: Board, text: str) -> Move:
    """Parse WXF text (``C2=5``, ``H8+7``, ``+P+1``, ``P++1``, ``Ｃ２．５``)."""
    t = to_halfwidth(text).strip().upper()
    m = _WXF_RE.match(t)
    if not m:
        raise InvalidMoveError(f"invalid WXF move {text!r}")
    piece_type = WXF_LETTERS[m["piece"]]
    pre, file_part = m["pre"], m["file"]
    tandem = pre
    file_no: int | None = None
    if file_part in ("+", "-"):
        if tandem is not None:
            raise InvalidMoveError(f"invalid WXF move {text!r}")
        tandem = file_part
    elif file_part:
        file_no = int(file_part)
    op = "=" if m["op"] == "." else m["op"]
    return _resolve(board, piece_type, tandem, file_no, op, int(m["num"]), text)


def to_wxf(board: Board, move: Move, *, fullwidth: bool = False) -> str:
    """WXF text of a legal move, e.g. ``C2=5``."""
    t, marker, file_no, count, op, num = _describe(board, move)
    letter = WXF_NAMES[t]
    if not marker:
        text = f"{letter}{file_no}{op}{num}"
    else:
        pos = int(marker)
        prefix = ("+" if pos == 0 else "-") if count == 2 else str(pos + 1)
        text = f"{prefix}{letter}{file_no or ''}{op}{num}"
    if fullwidth:
        text = "".join(chr(ord(c) + 0xFEE0) for c in text)
    return text


# ---------------------------------------------------------------------------
# Chinese.

def _cn_number(ch: str) -> int | None:
    if ch in CN_NUMERALS:
        return CN_NUMERALS.index(ch) + 1
    ch = to_halfwidth(ch)
    if ch in "123456789":
        return int(ch)
    return None


def parse_chinese(board: Board, text: str) -> Move:
    """Parse Chinese text in simplified or traditional characters (``炮二平五``, ``馬８進７``,
    ``前車進一``, ``後炮平四``, ``中兵进一``, ``二兵平五``, ``前七进一``)."""
    t = "".join(text.split())
    if len(t) != 4:
        raise InvalidMoveError(f"invalid Chinese move {text!r}")
    a, b, c, d = t
    op = CN_ACTIONS.get(c)
    num = _cn_number(d)
    if op is None or num is None:
        raise InvalidMoveError(f"invalid Chinese move {text!r}")
    ordinal = "12345"[CN_NUMERALS.index(a)] if a in CN_NUMERALS[:5] else None
    if a in CN_PIECES:
        file_no = _cn_number(b)
        if file_no is None:
            raise InvalidMoveError(f"invalid Chinese move {text!r}")
        return _resolve(board, CN_PIECES[a], None, file_no, op, num, text)
    tandem = CN_TANDEM.get(a) or ordinal
    if tandem is None:
        raise InvalidMoveError(f"invalid Chinese move {text!r}")
    if b in CN_PIECES:
        return _resolve(board, CN_PIECES[b], tandem, None, op, num, text)
    file_no = _cn_number(b)
    if file_no is None:
        raise InvalidMoveError(f"invalid Chinese move {text!r}")
    # "前七进一": the front piece on file 7; the piece type is whichever stands doubled there.
    errors = []
    for piece_type in (SOLDIER, CHARIOT, HORSE, CANNON, ADVISOR, ELEPHANT):
        try:
            return _resolve(board, piece_type, tandem, file_no, op, num, text)
        except (IllegalMoveError, AmbiguousMoveError) as e:
            errors.append(e)
    raise errors[0]


def to_chinese(board: Board, move: Move, *, traditional: bool = False, fullwidth: bool = True) -> str:
    """Chinese text of a legal move: ``炮二平五`` for Red, ``马８进７`` for Black."""
    t, marker, file_no, count, op, num = _describe(board, move)
    color = board.turn

    def numeral(n: int) -> str:
        if color == RED:
            return CN_NUMERALS[n - 1]
        return FULLWIDTH_DIGITS[n - 1] if fullwidth else str(n)

    name = (RED_NAMES if color == RED else BLACK_NAMES)[t]
    action = {"+": "进", "-": "退", "=": "平"}[op]
    if not marker:
        text = f"{name}{numeral(file_no)}{action}{numeral(num)}"
    else:
        pos = int(marker)
        if count == 2:
            prefix = "前" if pos == 0 else "后"
        elif count == 3:
            prefix = "前中后"[pos]
        else:
            prefix = CN_NUMERALS[pos]
        second = numeral(file_no) if file_no is not None else name
        text = f"{prefix}{second}{action}{numeral(num)}"
    return text.translate(TO_TRADITIONAL) if traditional else text


# ---------------------------------------------------------------------------
# Any notation.

def parse_iccs(board: Board, text: str) -> Move:
    """Parse ICCS/UCI text and check that the move is legal."""
    move = Move.from_uci(to_halfwidth(text))
    if not board.is_legal(move):
        raise IllegalMoveError(f"illegal move {move.uci()} in {board.fen()}")
    return move


def detect_notation(text: str) -> str:
    """``iccs``, ``wxf`` or ``chinese`` for a piece of move text (by its form only)."""
    t = to_halfwidth(text).strip()
    if _ICCS_RE.match(t):
        return "iccs"
    if t.isascii():
        return "wxf"
    return "chinese"


def parse_move(board: Board, text: str, notation: str | None = None) -> Move:
    """Parse a legal move in ICCS, WXF or Chinese; the notation is detected when not given."""
    parser = {"iccs": parse_iccs, "wxf": parse_wxf, "chinese": parse_chinese}
    kind = notation or detect_notation(text)
    if kind not in parser:
        raise ValueError(f"unknown notation {notation!r}")
    return parser[kind](board, text)


def render_move(board: Board, move: Move, notation: str = "iccs") -> str:
    """Render a legal move in ``iccs``, ``wxf``, ``chinese`` or ``chinese-traditional``."""
    if notation == "iccs":
        return move.uci()
    if notation == "wxf":
        return to_wxf(board, move)
    if notation == "chinese":
        return to_chinese(board, move)
    if notation == "chinese-traditional":
        return to_chinese(board, move, traditional=True)
    raise ValueError(f"unknown notation {notation!r}")
