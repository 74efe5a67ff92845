"""The board and the rules of xiangqi (Chinese chess): move generation, check, game endings.

Pieces are small signed integers internally (Red positive, Black negative); the public API
wraps them in :class:`Piece`. Colours, squares, moves and errors live in :mod:`xiangqi.base`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from .base import (
    ADVISOR,
    ADVISOR_MOVES,
    ADVISOR_SQUARES,
    BLACK,
    CANNON,
    CHARIOT,
    COLOR_NAMES,
    DEFAULT_MAX_PLIES_WITHOUT_CAPTURE,
    DEFAULT_REPETITIONS,
    ELEPHANT,
    ELEPHANT_MOVES,
    ELEPHANT_SQUARES,
    FILE_NAMES,
    GENERAL,
    HORSE,
    HORSE_ATTACKERS,
    HORSE_MOVES,
    KING_MOVES,
    PALACE_SQUARES,
    PAWN_ATTACKERS,
    PAWN_MOVES,
    PIECE_NAMES,
    RED,
    ROOK_RAYS,
    SOLDIER,
    SQUARES,
    STARTING_FEN,
    Color,
    IllegalMoveError,
    InvalidFenError,
    Move,
    Piece,
    PieceType,
    Square,
    mirror_square,
    square,
    square_name,
)
from .chase import judge_cycle
from .vocab import legal_mask as _vocab_legal_mask

_rng = random.Random(20261125)
ZOBRIST_PIECE = {code: tuple(_rng.getrandbits(64) for _ in SQUARES)
                 for code in list(range(1, 8)) + list(range(-7, 0))}
ZOBRIST_BLACK_TO_MOVE = _rng.getrandbits(64)
RULES = ("asian", "check-only")
MAX_FEN_COUNTER = 999_999  # largest halfmove clock and move number a FEN may give
# KING_LINES[k][sq]: whether ``sq`` is on the rank or file of a general on ``k`` or diagonally next
# to it; a move between two other squares cannot expose a general that is not in check.
KING_LINES = tuple(tuple(sq % 9 == k % 9 or sq // 9 == k // 9 or (abs(sq % 9 - k % 9) == 1
                                                                   and abs(sq // 9 - k // 9) == 1)
                         for sq in SQUARES) for k in SQUARES)


def _fen_counter(text: str) -> int:
    """A FEN move counter as an integer (its range is checked by the caller)."""
    if len(text) > len(str(MAX_FEN_COUNTER)) + 1:  # never int() of thousands of digits
        raise InvalidFenError(f"FEN move counter {text[:12]}... is out of range (at most {MAX_FEN_COUNTER})")
    if not text.isascii():
        raise InvalidFenError(f"FEN move counters must be integers, not {text!r}")
    try:
        return int(text)
    except ValueError:
        raise InvalidFenError(f"FEN move counters must be integers, not {text!r}") from None


# ---------------------------------------------------------------------------
# Game endings.

class Termination(Enum):
    """Why a game ended."""

    CHECKMATE = "checkmate"
    STALEMATE = "stalemate"
    PERPETUAL_CHECK = "perpetual_check"
    PERPETUAL_CHASE = "perpetual_chase"
    REPETITION = "repetition"
    MOVE_LIMIT = "move_limit"


@dataclass(frozen=True)
class Outcome:
    """The end of a game: its termination and the winner (``None`` for a draw).

    ``chased`` is, for a perpetual chase, the piece the loser chased and its square now.
    """

    termination: Termination
    winner: Color | None
    chased: tuple[Piece, Square] | None = None

    def result(self) -> str:
        """PGN result string."""
        if self.winner is None:
            return "1/2-1/2"
        return "1-0" if self.winner == RED else "0-1"

    def describe(self) -> str:
        """The ending in words, e.g. ``Black loses by perpetually chasing the red chariot on e5``."""
        if self.winner is None:
            limit = self.termination == Termination.MOVE_LIMIT
            return "Draw by the move limit" if limit else "Draw by repetition"
        winner, loser = COLOR_NAMES[self.winner].capitalize(), COLOR_NAMES[not self.winner].capitalize()
        if self.termination == Termination.CHECKMATE:
            return f"{winner} wins by checkmate"
        if self.termination == Termination.STALEMATE:
            return f"{winner} wins: {loser} has no legal move"
        if self.termination == Termination.PERPETUAL_CHECK:
            return f"{loser} loses by perpetual check"
        if self.chased is None:
            return f"{loser} loses by perpetual chase"
        piece, sq = self.chased
        return (f"{loser} loses by perpetually chasing the {COLOR_NAMES[piece.color]} "
                f"{PIECE_NAMES[piece.piece_type]} on {square_name(sq)}")


def _step_targets(b: list[int], t: int, color: int, frm: int) -> list[int]:
    """The squares a soldier, general, advisor or elephant (piece type ``t``) of ``color`` on
    ``frm`` may step to on board ``b``, whatever stands there (an elephant's eye must be empty)."""
    if t == SOLDIER:
        return PAWN_MOVES[color][frm]
    if t == GENERAL:
        return KING_MOVES[color][frm]
    if t == ADVISOR:
        return ADVISOR_MOVES[color][frm]
    return [s for eye, s in ELEPHANT_MOVES[color][frm] if b[eye] == 0]


# ---------------------------------------------------------------------------
# The board.

class Board:
    """A xiangqi position with its move history.

    ``max_plies_without_capture`` sets the move-limit draw (default 120 plies, 60 moves per
    side; see :meth:`plies_towards_move_limit`); ``repetitions`` the number of occurrences of a
    position that ends the game; ``rules`` how a repetition and the move limit are judged:
    ``"asian"`` (default: perpetual check and perpetual chase lose, see :mod:`xiangqi.chase`;
    late checks do not count towards the move limit) or ``"check-only"`` (only perpetual check
    loses; every ply counts);
    ``strict=False`` loads composed positions that no game reaches (see :meth:`set_fen`).
    """

    def __init__(self, fen: str | None = STARTING_FEN, *,
                 max_plies_without_capture: int = DEFAULT_MAX_PLIES_WITHOUT_CAPTURE,
                 repetitions: int = DEFAULT_REPETITIONS, rules: str = "asian", strict: bool = True) -> None:
        if rules not in RULES:
            raise ValueError(f"unknown rules {rules!r}; choose one of {', '.join(RULES)}")
        self.max_plies_without_capture = max_plies_without_capture
        self.repetitions = repetitions
        self.rules = rules
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
            self.set_fen(fen, strict=strict)

    # -- FEN ----------------------------------------------------------------

    def set_fen(self, fen: str, *, strict: bool = True) -> None:
        """Set the position from a FEN string; raises :class:`InvalidFenError`.

        A position that cannot be played (a side without exactly one general, a general outside
        its palace, an advisor or elephant off its points, the generals facing, the side not to
        move in check) is always refused; with ``strict=False`` one that merely no game reaches
        (a composed problem, see :meth:`status`) loads."""
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
        halfmove = _fen_counter(parts[4]) if len(parts) > 4 else 0
        fullmove = _fen_counter(parts[5]) if len(parts) > 5 else 1
        if not (0 <= halfmove <= MAX_FEN_COUNTER and 1 <= fullmove <= MAX_FEN_COUNTER):
            raise InvalidFenError(f"FEN move counters out of range (halfmove clock 0-{MAX_FEN_COUNTER}, "
                                  f"move number 1-{MAX_FEN_COUNTER})")
        _validate_placement(board, strict)
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

    def status(self) -> list[str]:
        """What no game could reach in this placement, in words (more pieces of a kind than a set
        has, a soldier behind its starting squares); empty for a position play can reach.
        Such positions load only with ``strict=False``."""
        return _unreachable(self._board)

    def is_valid(self) -> bool:
        """Whether the placement could arise in a game: :meth:`status` is empty."""
        return not self.status()

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
        b.rules = self.rules
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

    def piece_codes(self) -> list[int]:
        """The signed piece codes of the 90 squares, in square order (a copy)."""
        return list(self._board)

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
            for s in _step_targets(b, t, color, frm):
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

    def _exposing_squares(self) -> set[Square]:
        """The squares where a move of the side to move, not in check, may expose its general:
        the general's own, each ray from it up to an enemy chariot or general that is the first or
        second piece on the ray or an enemy cannon among the first three (one move shifts the
        enemy pieces on a ray by at most one place), and the legs of the enemy horses that would
        attack it. Soldiers' attacks never change."""
        b = self._board
        king = self._kings[self.turn]
        sign = -1 if self.turn == RED else 1
        chariot, cannon, general = CHARIOT * sign, CANNON * sign, GENERAL * sign
        out = {king}
        for ray in ROOK_RAYS[king]:
            pieces, end = 0, 0
            for i, s in enumerate(ray):
                c = b[s]
                if c == 0:
                    continue
                pieces += 1
                if c == cannon or (pieces <= 2 and (c == chariot or c == general)):
                    end = i + 1
                if pieces == 3:
                    break
            out.update(ray[:end])
        horse = HORSE * sign
        for frm, leg in HORSE_ATTACKERS[king]:
            if b[frm] == horse:
                out.add(leg)
        return out

    # -- the fast path: move codes, make and unmake ---------------------------
    #
    # A search that visits many thousand positions a second (play.tactics, play.mates, perft)
    # walks moves as codes ``from_square * 90 + to_square`` (Move.code) and makes them with
    # make_code / unmake_code, which skip what push and pop keep for the game: the legality check,
    # move_stack and the repetition and check histories.

    def legal_move_codes(self) -> list[int]:
        """The legal moves of the side to move as codes ``from_square * 90 + to_square``
        (:attr:`Move.code`), in the order of :attr:`legal_moves`. Reads the position only, so it
        is exact between :meth:`make_code` and :meth:`unmake_code`."""
        safe = self._leaves_king_safe
        if self.is_check():
            return [m for m in self._pseudo_moves() if safe(m)]
        risky = self._exposing_squares()
        return [m for m in self._pseudo_moves()
                if not (m // 90 in risky or m % 90 in risky) or safe(m)]

    def legal_capture_codes(self) -> list[int]:
        """The legal captures of the side to move as move codes: the codes of
        :meth:`legal_move_codes` whose target square holds a piece (in another order), generated
        directly out of check, which is several times faster (a quiescence search's moves, like
        python-chess's ``generate_legal_captures``). Exact between :meth:`make_code` and
        :meth:`unmake_code`."""
        if self.is_check():
            return [m for m in self.legal_move_codes() if self._board[m % 90]]
        b = self._board
        red = self.turn == RED
        color = self.turn
        out: list[int] = []
        append = out.append
        for frm in SQUARES:
            c = b[frm]
            if c == 0 or (c > 0) != red:
                continue
            base = frm * 90
            t = c if red else -c
            if t == CHARIOT or t == CANNON:
                for ray in ROOK_RAYS[frm]:
                    screen = t == CHARIOT  # a chariot takes the first piece, a cannon the second
                    for s in ray:
                        x = b[s]
                        if x:
                            if screen:
                                if (x > 0) != red:
                                    append(base + s)
                                break
                            screen = True
            elif t == HORSE:
                for leg, s in HORSE_MOVES[frm]:
                    x = b[s]
                    if x and (x > 0) != red and b[leg] == 0:
                        append(base + s)
            else:
                for s in _step_targets(b, t, color, frm):
                    x = b[s]
                    if x and (x > 0) != red:
                        append(base + s)
        if not out:
            return out
        risky = self._exposing_squares()
        safe = self._leaves_king_safe
        return [m for m in out if not (m // 90 in risky or m % 90 in risky) or safe(m)]

    @property
    def legal_moves(self) -> list[Move]:
        """All legal moves of the side to move."""
        return [Move(*divmod(m, 90)) for m in self.legal_move_codes()]

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
        if m not in targets:
            return False
        lines = KING_LINES[self._kings[self.turn]]
        in_check = self._check_history[-1]  # kept by push, pop and set_fen
        return not (in_check or lines[frm] or lines[to]) or self._leaves_king_safe(m)

    def is_check(self) -> bool:
        """Whether the side to move is in check."""
        return self._is_attacked(self._kings[self.turn], not self.turn)

    def _gave_check(self, frm: Square, to: Square) -> bool:
        """Whether the move just made from ``frm`` to ``to`` checks the side now to move. That side
        was not in check before it, so only a horse's move or one that starts or ends on its
        general's :data:`KING_LINES` can check."""
        lines = KING_LINES[self._kings[self.turn]]
        if lines[frm] or lines[to] or abs(self._board[to]) == HORSE:
            return self.is_check()
        return False

    def gives_check(self, move: Move) -> bool:
        self.make_code(move.from_square * 90 + move.to_square)
        check = self.is_check()
        self.unmake_code()
        return check

    def is_capture(self, move: Move) -> bool:
        return self._board[move.to_square] != 0

    # -- making moves ---------------------------------------------------------

    def make_code(self, m: int) -> None:
        """Make the move with code ``m`` (:attr:`Move.code`), which must be legal (one of
        :meth:`legal_move_codes`): it is not checked. The fast path of a search, undone by
        :meth:`unmake_code`.

        The contract: the position is exact after it (pieces, :attr:`turn`, the counters,
        :meth:`zobrist_hash`, :meth:`fen`, :meth:`is_check`, :meth:`legal_move_codes`,
        :meth:`legal_capture_codes`, :meth:`gives_check`, :meth:`is_checkmate`), but the game's
        history is not updated: :attr:`move_stack`, :meth:`repetition_count`, :meth:`outcome`,
        :meth:`is_legal`, :meth:`push`, :meth:`pop` and :meth:`copy` read or extend the history of
        the pushed moves and are wrong until every :meth:`make_code` is undone, last first, by
        :meth:`unmake_code`. Use :meth:`push` for a move that is part of the game.

        >>> board = Board()
        >>> board.make_code(Move.from_uci("h2e2").code)
        >>> board.fen(), board.move_stack
        ('rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C2C4/9/RNBAKABNR b - - 1 1', [])
        >>> board.unmake_code()
        >>> board == Board()
        True
        """
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

    def unmake_code(self) -> None:
        """Take back the last :meth:`make_code` (see its contract); the position is as before it."""
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
        frm, to = move.from_square, move.to_square
        self.make_code(frm * 90 + to)
        self.move_stack.append(move)
        self._hash_history.append(self._hash)
        self._check_history.append(self._gave_check(frm, to))

    def push_uci(self, text: str) -> Move:
        """Parse ICCS/UCI text and play it."""
        move = Move.from_uci(text)
        self.push(move)
        return move

    def pop(self) -> Move:
        """Take back the last move."""
        if not self.move_stack:
            raise IndexError("pop from a board with no moves")
        self.unmake_code()
        self._hash_history.pop()
        self._check_history.pop()
        return self.move_stack.pop()

    def peek(self) -> Move:
        return self.move_stack[-1]

    # -- game end -------------------------------------------------------------

    def is_checkmate(self) -> bool:
        return self.is_check() and not self.legal_move_codes()

    def is_stalemate(self) -> bool:
        """No legal move and not in check (a loss for the side to move in xiangqi)."""
        return not self.is_check() and not self.legal_move_codes()

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
        if self.rules == "asian":
            return self._judge_cycle(first)  # position ``first`` came before move_stack[first]
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

    def _judge_cycle(self, start: int) -> Outcome:
        """The Asian-rules verdict on the moves from ``move_stack[start]`` on (see :mod:`xiangqi.chase`)."""
        verdict = judge_cycle(self, start)
        checks = verdict.perpetual_check
        if checks[RED] != checks[BLACK]:
            return Outcome(Termination.PERPETUAL_CHECK, BLACK if checks[RED] else RED)
        chases = verdict.chase
        if checks[RED] or bool(chases[RED]) == bool(chases[BLACK]):
            return Outcome(Termination.REPETITION, None)
        loser = RED if chases[RED] else BLACK
        sq = min(chases[loser])
        return Outcome(Termination.PERPETUAL_CHASE, not loser, (Piece.from_code(self._board[sq]), sq))

    def outcome(self) -> Outcome | None:
        """How the game has ended, or ``None`` while it goes on.

        Checked in order: no legal move (checkmate or stalemate, both lose), repetition
        (perpetual check loses for the checking side; under the Asian rules then a perpetual
        chase loses for the chasing side; otherwise a draw), the move limit.
        """
        if not self.legal_move_codes():
            termination = Termination.CHECKMATE if self.is_check() else Termination.STALEMATE
            return Outcome(termination, not self.turn)
        rep = self._repetition_outcome()
        if rep is not None:
            return rep
        limit = self.max_plies_without_capture
        if self.halfmove_clock >= limit and self.plies_towards_move_limit() >= limit:
            return Outcome(Termination.MOVE_LIMIT, None)
        return None

    def plies_towards_move_limit(self) -> int:
        """The plies since the last capture that count towards the move limit.

        Under the Asian rules a side's checks after its tenth since the last capture do not
        count, nor do the replies to them (as Pikafish counts); plies before the start position
        count in full. Under ``"check-only"`` rules this is the halfmove clock.
        """
        plies = self.halfmove_clock
        if self.rules != "asian":
            return plies
        history = self._check_history  # history[i]: the move into position i gave check
        last = len(history) - 1
        checks = {RED: 0, BLACK: 0}
        for i in range(last - min(plies, last) + 1, last + 1):
            mover = self.turn if (last - i) % 2 else not self.turn
            if history[i]:
                checks[mover] += 1
            if (history[i] and checks[mover] > 10) or (history[i - 1] and checks[not mover] > 10):
                plies -= 1
        return plies

    def is_game_over(self) -> bool:
        return self.outcome() is not None

    def result(self) -> str:
        """``1-0``, ``0-1``, ``1/2-1/2`` or ``*`` while the game goes on."""
        outcome = self.outcome()
        return outcome.result() if outcome else "*"

    # -- misc -----------------------------------------------------------------

    def legal_mask(self):
        """Boolean numpy array over :data:`xiangqi.vocab.MOVES`: True for legal moves."""
        return _vocab_legal_mask(self)

    def mirror(self) -> Board:
        """The position reflected left-right, without history."""
        b = Board(None, rules=self.rules)
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


def _validate_placement(board: list[int], strict: bool) -> None:
    """Raise :class:`InvalidFenError` for a placement that cannot be played (and, when ``strict``,
    for one that no game reaches, see :func:`_unreachable`)."""
    for color, sign in ((RED, 1), (BLACK, -1)):
        name = COLOR_NAMES[color]
        generals = board.count(GENERAL * sign)
        if generals != 1:
            raise InvalidFenError(f"{name} must have exactly one general, found {generals}")
        for sq, code in enumerate(board):
            t = code * sign
            where = f"{name} {PIECE_NAMES[abs(code)]} on {square_name(sq)}" if code else ""
            if t == GENERAL and sq not in PALACE_SQUARES[color]:
                raise InvalidFenError(f"{where} is outside the palace")
            if t == ADVISOR and sq not in ADVISOR_SQUARES[color]:
                raise InvalidFenError(f"{where} is not on an advisor point")
            if t == ELEPHANT and sq not in ELEPHANT_SQUARES[color]:
                raise InvalidFenError(f"{where} is not on an elephant point")
    problems = _unreachable(board) if strict else []
    if problems:
        raise InvalidFenError(problems[0])


_PIECE_LIMITS = {ADVISOR: 2, ELEPHANT: 2, HORSE: 2, CHARIOT: 2, CANNON: 2, SOLDIER: 5}


def _unreachable(board: list[int]) -> list[str]:
    """What no game can reach in a placement that can be played: more pieces of a kind than a set
    has, soldiers behind their starting squares (composed problems have both)."""
    problems = []
    for color, sign in ((RED, 1), (BLACK, -1)):
        name = COLOR_NAMES[color]
        for t, limit in _PIECE_LIMITS.items():
            n = board.count(t * sign)
            if n > limit:
                problems.append(f"{name} has {n} {PIECE_NAMES[t]}s, at most {limit} allowed")
        for sq, code in enumerate(board):
            if code * sign == SOLDIER:
                f, r = sq % 9, sq // 9
                behind = r < 3 if color == RED else r > 6
                at_home = (r in (3, 4)) if color == RED else (r in (5, 6))
                if behind or (at_home and f % 2 == 1):
                    problems.append(f"{name} soldier on {square_name(sq)} cannot be reached by a soldier")
    return problems
