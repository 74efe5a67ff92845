"""Board, moves and rules of xiangqi (Chinese chess).

Squares are numbered ``rank * 9 + file`` with file 0..8 = ``a``..``i`` from Red's left and
rank 0..9 from Red's side, as in ICCS/UCI notation (Red's general starts on ``e0`` = 4).
Pieces are small signed integers internally (Red positive, Black negative); the public API
wraps them in :class:`Piece`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

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
        return cls(abs(code), code > 0)


@dataclass(frozen=True, slots=True)
class Move:
    """A move from one square to another."""

    from_square: Square
    to_square: Square

    def uci(self) -> str:
        """ICCS/UCI text, e.g. ``h2e2``."""
        return square_name(self.from_square) + square_name(self.to_square)

    iccs = uci

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

_rng = random.Random(20261125)
ZOBRIST_PIECE = {code: tuple(_rng.getrandbits(64) for _ in SQUARES)
                 for code in list(range(1, 8)) + list(range(-7, 0))}
ZOBRIST_BLACK_TO_MOVE = _rng.getrandbits(64)


# ---------------------------------------------------------------------------
# Game endings.

class Termination(Enum):
    """Why a game ended."""

    CHECKMATE = "checkmate"
    STALEMATE = "stalemate"
    PERPETUAL_CHECK = "perpetual_check"
    REPETITION = "repetition"
    MOVE_LIMIT = "move_limit"


@dataclass(frozen=True)
class Outcome:
    """The end of a game: its termination and the winner (``None`` for a draw)."""

    termination: Termination
    winner: Color | None

    def result(self) -> str:
        """PGN result string."""
        if self.winner is None:
            return "1/2-1/2"
        return "1-0" if self.winner == RED else "0-1"


# ---------------------------------------------------------------------------
# The board.

class Board:
    """A xiangqi position with its move history.

    ``max_plies_without_capture`` sets the move-limit draw (default 120 plies, 60 moves per
    side); ``repetitions`` the number of occurrences of a position that ends the game.
    """

    def __init__(self, fen: str | None = STARTING_FEN, *,
                 max_plies_without_capture: int = DEFAULT_MAX_PLIES_WITHOUT_CAPTURE,
                 repetitions: int = DEFAULT_REPETITIONS) -> None:
        self.max_plies_without_capture = max_plies_without_capture
        self.repetitions = repetitions
        self._board: list[int] = [0] * 90
        self.turn: Color = RED
        self.halfmove_clock = 0
        self.fullmove_number = 1
        self._kings = {RED: -1, BLACK: -1}
        self._hash = 0
        self.move_stack: list[Move] = []
        # One entry per pushed move: (move int, captured code, previous halfmove clock).
        self._undo: list[tuple[int, int, int]] = []
        self._hash_history: list[int] = []   # hash of every position, current one last
        self._check_history: list[bool] = []  # whether the side to move was in check there
        if fen is None:
            self._reset_history()
        else:
            self.set_fen(fen)

    # -- FEN ----------------------------------------------------------------

    def set_fen(self, fen: str) -> None:
        """Set the position from a FEN string; raises :class:`InvalidFenError`."""
        if not isinstance(fen, str):
            raise InvalidFenError("FEN must be a string")
        parts = fen.split()
        if not parts:
            raise InvalidFenError("empty FEN")
        if len(parts) > 6:
            raise InvalidFenError(f"FEN has {len(parts)} fields, at most 6 expected")
        rows = parts[0].split("/")
        if len(rows) != 10:
            raise InvalidFenError(f"FEN board has {len(rows)} ranks, 10 expected")
        board = [0] * 90
        for i, row in enumerate(rows):
            rank = 9 - i
            f = 0
            previous_digit = False
            for ch in row:
                if ch in "123456789":
                    if previous_digit:
                        raise InvalidFenError(f"FEN rank {rank} ({row!r}) has two digits in a row")
                    f += int(ch)
                    previous_digit = True
                else:
                    previous_digit = False
                    if f >= 9:
                        raise InvalidFenError(f"FEN rank {rank} has more than 9 files")
                    board[square(f, rank)] = Piece.from_symbol(ch).code()
                    f += 1
            if f != 9:
                raise InvalidFenError(f"FEN rank {rank} ({row!r}) has {f} files, 9 expected")
        side = parts[1].lower() if len(parts) > 1 else "w"
        if side not in ("w", "r", "b"):
            raise InvalidFenError(f"invalid side to move {parts[1]!r} (expected w, r or b)")
        try:
            halfmove = int(parts[4]) if len(parts) > 4 else 0
            fullmove = int(parts[5]) if len(parts) > 5 else 1
        except ValueError:
            raise InvalidFenError("FEN move counters must be integers") from None
        if halfmove < 0 or fullmove < 1:
            raise InvalidFenError("FEN move counters out of range")
        _validate_placement(board)
        previous = (self._board, self.turn, self._kings)
        self._board = board
        self.turn = BLACK if side == "b" else RED
        self._kings = {RED: board.index(GENERAL), BLACK: board.index(-GENERAL)}
        try:
            if self._generals_face():
                raise InvalidFenError("the generals face each other on an open file")
            if self._is_attacked(self._kings[not self.turn], self.turn):
                raise InvalidFenError(f"the side not to move ({COLOR_NAMES[not self.turn]}) is in check")
        except InvalidFenError:
            self._board, self.turn, self._kings = previous
            raise
        self.halfmove_clock = halfmove
        self.fullmove_number = fullmove
        self._hash = self._compute_hash()
        self.move_stack = []
        self._undo = []
        self._reset_history()

    def _reset_history(self) -> None:
        self._hash_history = [self._hash]
        self._check_history = [self._kings[self.turn] >= 0 and self.is_check()]

    def board_fen(self) -> str:
        rows = []
        for rank in range(9, -1, -1):
            row, empty = "", 0
            for f in range(9):
                code = self._board[square(f, rank)]
                if code == 0:
                    empty += 1
                    continue
                if empty:
                    row += str(empty)
                    empty = 0
                row += Piece.from_code(code).symbol()
            rows.append(row + (str(empty) if empty else ""))
        return "/".join(rows)

    def fen(self) -> str:
        """The position as a FEN string."""
        side = "w" if self.turn == RED else "b"
        return f"{self.board_fen()} {side} - - {self.halfmove_clock} {self.fullmove_number}"

    def __repr__(self) -> str:
        return f"Board({self.fen()!r})"

    def __str__(self) -> str:
        lines = []
        for rank in range(9, -1, -1):
            cells = []
            for f in range(9):
                code = self._board[square(f, rank)]
                cells.append(Piece.from_code(code).symbol() if code else ".")
            lines.append(f"{rank} " + " ".join(cells))
        lines.append("  " + " ".join(FILE_NAMES))
        return "\n".join(lines)

    def copy(self) -> Board:
        """An independent copy, history included."""
        b = Board.__new__(Board)
        b.max_plies_without_capture = self.max_plies_without_capture
        b.repetitions = self.repetitions
        b._board = self._board.copy()
        b.turn = self.turn
        b.halfmove_clock = self.halfmove_clock
        b.fullmove_number = self.fullmove_number
        b._kings = dict(self._kings)
        b._hash = self._hash
        b.move_stack = self.move_stack.copy()
        b._undo = self._undo.copy()
        b._hash_history = self._hash_history.copy()
        b._check_history = self._check_history.copy()
        return b

    def root(self) -> Board:
        """A board at the position before the first move of the stack."""
        b = self.copy()
        while b.move_stack:
            b.pop()
        return b

    # -- pieces ---------------------------------------------------------------

    def piece_at(self, sq: Square) -> Piece | None:
        code = self._board[sq]
        return Piece.from_code(code) if code else None

    def piece_code_at(self, sq: Square) -> int:
        """The internal signed piece code on a square (0 when empty, Red positive)."""
        return self._board[sq]

    def pieces(self, piece_type: PieceType, color: Color) -> list[Square]:
        """Squares holding the given piece, in square order."""
        code = piece_type if color == RED else -piece_type
        return [sq for sq, c in enumerate(self._board) if c == code]

    def king(self, color: Color) -> Square:
        return self._kings[color]

    def zobrist_hash(self) -> int:
        """A 64-bit Zobrist hash of the position (pieces and side to move)."""
        return self._hash

    def _compute_hash(self) -> int:
        h = 0 if self.turn == RED else ZOBRIST_BLACK_TO_MOVE
        for sq, code in enumerate(self._board):
            if code:
                h ^= ZOBRIST_PIECE[code][sq]
        return h

    # -- attacks and move generation ------------------------------------------

    def _is_attacked(self, sq: Square, by: Color) -> bool:
        """Whether ``by`` attacks ``sq`` (used for general safety, flying general included)."""
        b = self._board
        sign = 1 if by == RED else -1
        rook, cannon, king = CHARIOT * sign, CANNON * sign, GENERAL * sign
        for d, ray in enumerate(ROOK_RAYS[sq]):
            screen = False
            for s in ray:
                c = b[s]
                if c == 0:
                    continue
                if screen:
                    if c == cannon:
                        return True
                    break
                if c == rook or (c == king and d >= 2):
                    return True
                screen = True
        horse = HORSE * sign
        for frm, leg in HORSE_ATTACKERS[sq]:
            if b[frm] == horse and b[leg] == 0:
                return True
        pawn = SOLDIER * sign
        for frm in PAWN_ATTACKERS[by][sq]:
            if b[frm] == pawn:
                return True
        return False

    def _generals_face(self) -> bool:
        """Whether the two generals stand on one file with nothing between them."""
        red, black = self._kings[RED], self._kings[BLACK]
        if red % 9 != black % 9:
            return False
        return all(self._board[sq] == 0 for sq in range(red + 9, black, 9))

    def _pseudo_moves(self) -> list[int]:
        """Pseudo-legal moves of the side to move, as ``from * 90 + to`` integers."""
        b = self._board
        red = self.turn == RED
        out: list[int] = []
        for frm in SQUARES:
            c = b[frm]
            if c != 0 and (c > 0) == red:
                self._piece_moves(frm, out)
        return out

    def _piece_moves(self, frm: Square, out: list[int]) -> None:
        """Append the pseudo-legal moves of the piece on ``frm`` to ``out``."""
        b = self._board
        c = b[frm]
        red = c > 0
        color = RED if red else BLACK
        append = out.append
        base = frm * 90
        t = c if red else -c
        if t == CHARIOT:
            for ray in ROOK_RAYS[frm]:
                for s in ray:
                    x = b[s]
                    if x == 0:
                        append(base + s)
                    else:
                        if (x > 0) != red:
                            append(base + s)
                        break
        elif t == CANNON:
            for ray in ROOK_RAYS[frm]:
                screen = False
                for s in ray:
                    x = b[s]
                    if not screen:
                        if x == 0:
                            append(base + s)
                        else:
                            screen = True
                    elif x != 0:
                        if (x > 0) != red:
                            append(base + s)
                        break
        elif t == HORSE:
            for leg, s in HORSE_MOVES[frm]:
                if b[leg] == 0:
                    x = b[s]
                    if x == 0 or (x > 0) != red:
                        append(base + s)
        else:
            if t == SOLDIER:
                targets = PAWN_MOVES[color][frm]
            elif t == GENERAL:
                targets = KING_MOVES[color][frm]
            elif t == ADVISOR:
                targets = ADVISOR_MOVES[color][frm]
            else:
                targets = [s for eye, s in ELEPHANT_MOVES[color][frm] if b[eye] == 0]
            for s in targets:
                x = b[s]
                if x == 0 or (x > 0) != red:
                    append(base + s)

    def _leaves_king_safe(self, m: int) -> bool:
        """Whether pseudo-legal move ``m`` keeps the mover's general out of check."""
        b = self._board
        frm, to = divmod(m, 90)
        moved, captured = b[frm], b[to]
        b[to] = moved
        b[frm] = 0
        king_sq = self._kings[self.turn]
        safe = not self._is_attacked(to if frm == king_sq else king_sq, not self.turn)
        b[frm] = moved
        b[to] = captured
        return safe

    def _legal_move_ints(self) -> list[int]:
        safe = self._leaves_king_safe
        return [m for m in self._pseudo_moves() if safe(m)]

    @property
    def legal_moves(self) -> list[Move]:
        """All legal moves of the side to move."""
        return [Move(*divmod(m, 90)) for m in self._legal_move_ints()]

    def is_legal(self, move: Move) -> bool:
        """Whether ``move`` is legal for the side to move."""
        frm, to = move.from_square, move.to_square
        if not (0 <= frm < 90 and 0 <= to < 90):
            return False
        c = self._board[frm]
        if c == 0 or (c > 0) != (self.turn == RED):
            return False
        targets: list[int] = []
        self._piece_moves(frm, targets)
        m = frm * 90 + to
        return m in targets and self._leaves_king_safe(m)

    def is_check(self) -> bool:
        """Whether the side to move is in check."""
        return self._is_attacked(self._kings[self.turn], not self.turn)

    def gives_check(self, move: Move) -> bool:
        self._make(move.from_square * 90 + move.to_square)
        check = self.is_check()
        self._unmake()
        return check

    def is_capture(self, move: Move) -> bool:
        return self._board[move.to_square] != 0

    # -- making moves ---------------------------------------------------------

    def _make(self, m: int) -> None:
        frm, to = divmod(m, 90)
        b = self._board
        moved, captured = b[frm], b[to]
        self._undo.append((m, captured, self.halfmove_clock))
        h = self._hash ^ ZOBRIST_PIECE[moved][frm] ^ ZOBRIST_PIECE[moved][to] ^ ZOBRIST_BLACK_TO_MOVE
        if captured:
            h ^= ZOBRIST_PIECE[captured][to]
            self.halfmove_clock = 0
        else:
            self.halfmove_clock += 1
        b[to] = moved
        b[frm] = 0
        if moved == GENERAL or moved == -GENERAL:
            self._kings[moved > 0] = to
        if self.turn == BLACK:
            self.fullmove_number += 1
        self.turn = not self.turn
        self._hash = h

    def _unmake(self) -> None:
        m, captured, halfmove = self._undo.pop()
        frm, to = divmod(m, 90)
        b = self._board
        moved = b[to]
        b[frm] = moved
        b[to] = captured
        if moved == GENERAL or moved == -GENERAL:
            self._kings[moved > 0] = frm
        self.turn = not self.turn
        if self.turn == BLACK:
            self.fullmove_number -= 1
        self.halfmove_clock = halfmove
        self._hash ^= (ZOBRIST_PIECE[moved][frm] ^ ZOBRIST_PIECE[moved][to] ^ ZOBRIST_BLACK_TO_MOVE
                       ^ (ZOBRIST_PIECE[captured][to] if captured else 0))

    def push(self, move: Move) -> None:
        """Play a legal move; raises :class:`IllegalMoveError` otherwise."""
        if not self.is_legal(move):
            raise IllegalMoveError(f"illegal move {move.uci()} in {self.fen()}")
        self._make(move.from_square * 90 + move.to_square)
        self.move_stack.append(move)
        self._hash_history.append(self._hash)
        self._check_history.append(self.is_check())

    def push_uci(self, text: str) -> Move:
        """Parse ICCS/UCI text and play it."""
        move = Move.from_uci(text)
        self.push(move)
        return move

    def pop(self) -> Move:
        """Take back the last move."""
        if not self.move_stack:
            raise IndexError("pop from a board with no moves")
        self._unmake()
        self._hash_history.pop()
        self._check_history.pop()
        return self.move_stack.pop()

    def peek(self) -> Move:
        return self.move_stack[-1]

    # -- game end -------------------------------------------------------------

    def is_checkmate(self) -> bool:
        return self.is_check() and not self._legal_move_ints()

    def is_stalemate(self) -> bool:
        """No legal move and not in check (a loss for the side to move in xiangqi)."""
        return not self.is_check() and not self._legal_move_ints()

    def repetition_count(self) -> int:
        """How many times the current position has occurred since the last capture."""
        h = self._hash
        window = self._hash_history[-(self.halfmove_clock + 1):]
        return window.count(h)

    def _repetition_outcome(self) -> Outcome | None:
        if self.repetition_count() < self.repetitions:
            return None
        # The cycle runs from the first of the counted occurrences to now.
        history = self._hash_history
        start = len(history) - 1 - self.halfmove_clock
        first = history.index(self._hash, max(start, 0))
        # _check_history[i] is True when the move that led to position i gave check.
        # Position i (i > first) was reached by a move of the colour not to move there.
        checks = {RED: True, BLACK: True}
        n = len(history)
        for i in range(first + 1, n):
            mover = self.turn if (n - 1 - i) % 2 == 1 else (not self.turn)
            if not self._check_history[i]:
                checks[mover] = False
        if checks[RED] and not checks[BLACK]:
            return Outcome(Termination.PERPETUAL_CHECK, BLACK)
        if checks[BLACK] and not checks[RED]:
            return Outcome(Termination.PERPETUAL_CHECK, RED)
        return Outcome(Termination.REPETITION, None)

    def outcome(self) -> Outcome | None:
        """How the game has ended, or ``None`` while it goes on.

        Checked in order: no legal move (checkmate or stalemate, both lose), repetition
        (perpetual check loses for the checking side, otherwise a draw), the move limit.
        """
        if not self._legal_move_ints():
            termination = Termination.CHECKMATE if self.is_check() else Termination.STALEMATE
            return Outcome(termination, not self.turn)
        rep = self._repetition_outcome()
        if rep is not None:
            return rep
        if self.halfmove_clock >= self.max_plies_without_capture:
            return Outcome(Termination.MOVE_LIMIT, None)
        return None

    def is_game_over(self) -> bool:
        return self.outcome() is not None

    def result(self) -> str:
        """``1-0``, ``0-1``, ``1/2-1/2`` or ``*`` while the game goes on."""
        outcome = self.outcome()
        return outcome.result() if outcome else "*"

    # -- misc -----------------------------------------------------------------

    def legal_mask(self):
        """Boolean numpy array over :data:`xiangqi.vocab.MOVES`: True for legal moves."""
        from .vocab import legal_mask
        return legal_mask(self)

    def mirror(self) -> Board:
        """The position reflected left-right, without history."""
        b = Board(None)
        b._board = [self._board[mirror_square(sq)] for sq in SQUARES]
        b.turn = self.turn
        b.halfmove_clock = self.halfmove_clock
        b.fullmove_number = self.fullmove_number
        b._kings = {c: mirror_square(s) for c, s in self._kings.items()}
        b._hash = b._compute_hash()
        b._reset_history()
        return b

    def squares(self) -> Iterator[tuple[Square, Piece]]:
        """Occupied squares with their pieces."""
        for sq, code in enumerate(self._board):
            if code:
                yield sq, Piece.from_code(code)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Board) and self._board == other._board
                and self.turn == other.turn)

    __hash__ = None  # boards are mutable


def _validate_placement(board: list[int]) -> None:
    counts: dict[int, int] = {}
    for code in board:
        if code:
            counts[code] = counts.get(code, 0) + 1
    limits = {GENERAL: 1, ADVISOR: 2, ELEPHANT: 2, HORSE: 2, CHARIOT: 2, CANNON: 2, SOLDIER: 5}
    for color, sign in ((RED, 1), (BLACK, -1)):
        name = COLOR_NAMES[color]
        generals = counts.get(GENERAL * sign, 0)
        if generals != 1:
            raise InvalidFenError(f"{name} must have exactly one general, found {generals}")
        for t, limit in limits.items():
            n = counts.get(t * sign, 0)
            if n > limit:
                raise InvalidFenError(f"{name} has {n} {PIECE_NAMES[t]}s, at most {limit} allowed")
        for sq, code in enumerate(board):
            if code * sign <= 0:
                continue
            t = abs(code)
            f, r = sq % 9, sq // 9
            where = f"{PIECE_NAMES[t]} on {square_name(sq)}"
            if t == GENERAL and sq not in PALACE_SQUARES[color]:
                raise InvalidFenError(f"{name} {where} is outside the palace")
            if t == ADVISOR and sq not in ADVISOR_SQUARES[color]:
                raise InvalidFenError(f"{name} {where} is not on an advisor point")
            if t == ELEPHANT and sq not in ELEPHANT_SQUARES[color]:
                raise InvalidFenError(f"{name} {where} is not on an elephant point")
            if t == SOLDIER:
                behind = r < 3 if color == RED else r > 6
                at_home = (r in (3, 4)) if color == RED else (r in (5, 6))
                if behind or (at_home and f % 2 == 1):
                    raise InvalidFenError(f"{name} {where} cannot be reached by a soldier")
