"""Colours, pieces, squares, moves, errors and the geometric move tables.

Everything the board (:mod:`xiangqi.core`), the move vocabulary (:mod:`xiangqi.vocab`) and the
repetition judge (:mod:`xiangqi.chase`) share, at the bottom of the package: this module imports
none of them (the board imports the other two; they reach the board only for type hints).

Squares are numbered ``rank * 9 + file`` with file 0..8 = ``a``..``i`` from Red's left and rank
0..9 from Red's side, as in ICCS/UCI notation.
"""

from __future__ import annotations

from dataclasses import dataclass

Color = bool
RED: Color = True
BLACK: Color = False
COLOR_NAMES = {RED: "red", BLACK: "black"}

PieceType = int
GENERAL, ADVISOR, ELEPHANT, HORSE, CHARIOT, CANNON, SOLDIER = range(1, 8)
PIECE_TYPES = (GENERAL, ADVISOR, ELEPHANT, HORSE, CHARIOT, CANNON, SOLDIER)
PIECE_SYMBOLS = " kabnrcp"  # index by piece type; upper case is Red
PIECE_NAMES = {GENERAL: "general", ADVISOR: "advisor", ELEPHANT: "elephant", HORSE: "horse",
               CHARIOT: "chariot", CANNON: "cannon", SOLDIER: "soldier"}
PIECE_VALUES: dict[PieceType, float] = {
    GENERAL: 0.0, CHARIOT: 9.0, CANNON: 4.5, HORSE: 4.0, ADVISOR: 2.0, ELEPHANT: 2.0, SOLDIER: 1.0,
}
"""Material in soldiers, by piece type (the general is not material: losing it ends the game)."""
# Letters other programs write, accepted on input.
SYMBOL_ALIASES = {"h": "n", "e": "b"}

Square = int
FILE_NAMES = "abcdefghi"
RANK_NAMES = "0123456789"
SQUARES = range(90)

STARTING_FEN = "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w - - 0 1"
DEFAULT_MAX_PLIES_WITHOUT_CAPTURE = 120
DEFAULT_REPETITIONS = 3


class XiangqiError(ValueError):
    """Base class of every error the rules engine raises on bad input."""


class InvalidFenError(XiangqiError):
    """A FEN string that does not describe a valid xiangqi position."""


class InvalidMoveError(XiangqiError):
    """Move text that cannot be parsed in any supported notation."""


class IllegalMoveError(XiangqiError):
    """A well-formed move that is not legal in the position."""


class AmbiguousMoveError(XiangqiError):
    """Move text that matches more than one legal move."""


def square(file: int, rank: int) -> Square:
    """The square on ``file`` (0..8) and ``rank`` (0..9)."""
    return rank * 9 + file


def square_file(sq: Square) -> int:
    return sq % 9


def square_rank(sq: Square) -> int:
    return sq // 9


def square_name(sq: Square) -> str:
    """ICCS name of a square, e.g. ``e0``."""
    return FILE_NAMES[sq % 9] + RANK_NAMES[sq // 9]


def parse_square(name: str) -> Square:
    """Parse an ICCS square name such as ``h2``."""
    if len(name) != 2 or name[0].lower() not in FILE_NAMES or name[1] not in RANK_NAMES:
        raise InvalidMoveError(f"invalid square {name!r}")
    return square(FILE_NAMES.index(name[0].lower()), int(name[1]))


def mirror_square(sq: Square) -> Square:
    """The square reflected left-right (file a <-> i)."""
    return sq - 2 * (sq % 9) + 8


def rotate_square(sq: Square) -> Square:
    """The square rotated 180 degrees (Red's view <-> Black's view)."""
    return 89 - sq


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece type with its colour."""

    piece_type: PieceType
    color: Color

    def symbol(self) -> str:
        """FEN letter: upper case for Red."""
        s = PIECE_SYMBOLS[self.piece_type]
        return s.upper() if self.color == RED else s

    @classmethod
    def from_symbol(cls, symbol: str) -> Piece:
        lower = SYMBOL_ALIASES.get(symbol.lower(), symbol.lower())
        if len(symbol) != 1 or lower not in PIECE_SYMBOLS[1:]:
            raise InvalidFenError(f"invalid piece letter {symbol!r}")
        return cls(PIECE_SYMBOLS.index(lower), symbol.isupper())

    def code(self) -> int:
        return self.piece_type if self.color == RED else -self.piece_type

    @classmethod
    def from_code(cls, code: int) -> Piece:
        """The piece of a signed code (Red positive): one shared instance per code."""
        return _PIECES_BY_CODE[code]


_PIECES_BY_CODE = {code: Piece(abs(code), code > 0) for code in range(-SOLDIER, SOLDIER + 1)}


@dataclass(frozen=True, slots=True)
class Move:
    """A move from one square to another."""

    from_square: Square
    to_square: Square

    def uci(self) -> str:
        """ICCS/UCI text, e.g. ``h2e2``."""
        return square_name(self.from_square) + square_name(self.to_square)

    iccs = uci

    @property
    def code(self) -> int:
        """The move as one integer, ``from_square * 90 + to_square``: what the board's fast path
        (:meth:`~xiangqi.Board.legal_move_codes`, :meth:`~xiangqi.Board.make_code`) reads."""
        return self.from_square * 90 + self.to_square

    @classmethod
    def from_code(cls, code: int) -> Move:
        """The move of a code (:attr:`code`)."""
        return cls(*divmod(code, 90))

    @classmethod
    def from_uci(cls, text: str) -> Move:
        """Parse ICCS/UCI text: ``h2e2``, ``H2-E2`` and ``h2-e2`` are accepted."""
        t = text.strip().replace("-", "")
        if len(t) != 4:
            raise InvalidMoveError(f"invalid ICCS move {text!r}")
        try:
            return cls(parse_square(t[:2]), parse_square(t[2:]))
        except InvalidMoveError:
            raise InvalidMoveError(f"invalid ICCS move {text!r}") from None

    def mirror(self) -> Move:
        """The move reflected left-right."""
        return Move(mirror_square(self.from_square), mirror_square(self.to_square))

    def rotate(self) -> Move:
        """The move rotated 180 degrees."""
        return Move(rotate_square(self.from_square), rotate_square(self.to_square))

    def __str__(self) -> str:
        return self.uci()


# ---------------------------------------------------------------------------
# Precomputed move tables.

def _on_board(f: int, r: int) -> bool:
    return 0 <= f < 9 and 0 <= r < 10


def _in_palace(color: Color, f: int, r: int) -> bool:
    return 3 <= f <= 5 and (0 <= r <= 2 if color == RED else 7 <= r <= 9)


def _own_half(color: Color, r: int) -> bool:
    return r <= 4 if color == RED else r >= 5


def _build_tables():
    rays = []
    horse_moves = []
    for sq in SQUARES:
        f, r = sq % 9, sq // 9
        sq_rays = []
        for df, dr in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ray = []
            nf, nr = f + df, r + dr
            while _on_board(nf, nr):
                ray.append(square(nf, nr))
                nf, nr = nf + df, nr + dr
            sq_rays.append(tuple(ray))
        rays.append(tuple(sq_rays))
        hm = []
        for df, dr in ((1, 2), (-1, 2), (1, -2), (-1, -2), (2, 1), (2, -1), (-2, 1), (-2, -1)):
            if _on_board(f + df, r + dr):
                leg = square(f, r + dr // 2) if abs(dr) == 2 else square(f + df // 2, r)
                hm.append((leg, square(f + df, r + dr)))
        horse_moves.append(tuple(hm))
    horse_attackers: list[list] = [[] for _ in SQUARES]
    for frm in SQUARES:
        for leg, to in horse_moves[frm]:
            horse_attackers[to].append((frm, leg))

    king, advisor, elephant, pawn = {}, {}, {}, {}
    pawn_attackers = {}
    for color in (RED, BLACK):
        k, a, e, p = [], [], [], []
        fwd = 1 if color == RED else -1
        for sq in SQUARES:
            f, r = sq % 9, sq // 9
            k.append(tuple(square(f + df, r + dr) for df, dr in ((1, 0), (-1, 0), (0, 1), (0, -1))
                           if _in_palace(color, f + df, r + dr)))
            a.append(tuple(square(f + df, r + dr) for df, dr in ((1, 1), (-1, 1), (1, -1), (-1, -1))
                           if _in_palace(color, f + df, r + dr)))
            e.append(tuple((square(f + df // 2, r + dr // 2), square(f + df, r + dr))
                           for df, dr in ((2, 2), (-2, 2), (2, -2), (-2, -2))
                           if _on_board(f + df, r + dr) and _own_half(color, r + dr)))
            steps = [(0, fwd)] if _own_half(color, r) else [(0, fwd), (1, 0), (-1, 0)]
            p.append(tuple(square(f + df, r + dr) for df, dr in steps if _on_board(f + df, r + dr)))
        pa: list[list] = [[] for _ in SQUARES]
        for frm in SQUARES:
            for to in p[frm]:
                pa[to].append(frm)
        king[color], advisor[color], elephant[color], pawn[color] = (
            tuple(k), tuple(a), tuple(e), tuple(p))
        pawn_attackers[color] = tuple(tuple(x) for x in pa)
    return (tuple(rays), tuple(horse_moves), tuple(tuple(x) for x in horse_attackers),
            king, advisor, elephant, pawn, pawn_attackers)


(ROOK_RAYS, HORSE_MOVES, HORSE_ATTACKERS, KING_MOVES, ADVISOR_MOVES, ELEPHANT_MOVES,
 PAWN_MOVES, PAWN_ATTACKERS) = _build_tables()

# Squares each piece may ever stand on (used to validate FENs).
ADVISOR_SQUARES = {RED: {3, 5, 13, 21, 23}, BLACK: {66, 68, 76, 84, 86}}
ELEPHANT_SQUARES = {RED: {2, 6, 18, 22, 26, 38, 42}, BLACK: {47, 51, 63, 67, 71, 83, 87}}
PALACE_SQUARES = {RED: {3, 4, 5, 12, 13, 14, 21, 22, 23},
                  BLACK: {66, 67, 68, 75, 76, 77, 84, 85, 86}}
