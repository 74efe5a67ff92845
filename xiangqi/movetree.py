"""The move trees of the binary record formats (XQF, CBR), replayed into a :class:`Game`.

Both formats store the moves as a binary tree in pre-order: each record is one move with two
flags, *next* (the record that follows continues this line) and *sibling* (after this move's
whole continuation comes an alternative to this move). :func:`replay_tree` reads such records
one at a time, checks every move on a :class:`Board` and files the alternatives as
:class:`Line` variations, so the first branch at every node is the main line. The side to move
follows the first move's piece, as the formats' own flag is often wrong in problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .base import PIECE_SYMBOLS, Move, XiangqiError
from .core import Board
from .limits import RecordSize
from .pgn import Game, Line, PgnError


class Record(NamedTuple):
    """One node of a move tree: the move's squares, its comment and its two flags."""

    from_square: int
    to_square: int
    comment: str
    has_next: bool
    has_sibling: bool


def placement_fen(pieces: dict[int, str], red_to_move: bool = True) -> str:
    """FEN of ``{square: FEN letter}`` (squares as in :mod:`xiangqi.base`)."""
    rows = []
    for rank in range(9, -1, -1):
        row, empty = "", 0
        for file in range(9):
            symbol = pieces.get(rank * 9 + file)
            if symbol is None:
                empty += 1
                continue
            row += (str(empty) if empty else "") + symbol
            empty = 0
        rows.append(row + (str(empty) if empty else ""))
    return "/".join(rows) + (" w" if red_to_move else " b") + " - - 0 1"


def start_board(game: Game, source: str, index: int = 0, *, either_side: bool = False) -> Board:
    """The board of ``game.fen``, or :class:`PgnError` ``bad position`` with the reason. With
    ``either_side``, a position that is only valid with the other side to move (a mate diagram
    flagged for the winner) gets that side, in ``game.fen`` too."""
    try:
        return Board(game.fen)
    except XiangqiError as e:
        if either_side:
            fields = game.fen.split()
            fields[1] = "b" if fields[1] == "w" else "w"
            try:
                board = Board(" ".join(fields))
            except XiangqiError:
                pass
            else:
                game.fen = board.fen()
                return board
        raise PgnError(f"bad position: {e}", source=source, game=index) from None


def _play(board: Board, record: Record, ply: int, main: bool, source: str, index: int) -> Move:
    where = "" if main else " in a variation"
    if not (0 <= record.from_square < 90 and 0 <= record.to_square < 90):
        raise PgnError(f"invalid move{where}: a square off the board", source=source, game=index,
                       ply=ply)
    move = Move(record.from_square, record.to_square)
    if not board.is_legal(move):
        piece = board.piece_at(move.from_square)
        what = f"{PIECE_SYMBOLS[piece.piece_type]} " if piece else "empty square "
        raise PgnError(f"illegal move{where}: {what}{move.uci()} in {board.fen()}", source=source,
                       game=index, ply=ply, text=move.uci())
    board.push(move)
    return move


def replay_tree(game: Game, read: Callable[[], Record], has_moves: bool, *, source: str = "",
                index: int = 0) -> Game:
    """Read the move tree record by record (``read`` raises :class:`PgnError` at the end of the
    data) into ``game``: the main line, comments and variations. Raises :class:`PgnError` on a
    bad position, a move that is off the board or illegal, or a record beyond the bounds of
    :mod:`xiangqi.limits`.

    One board walks the whole tree: an alternative waits as the number of plies on the board
    where it branches off, and the board is taken back to it, so time and memory stay in
    proportion to the number of records."""
    board = start_board(game, source, index, either_side=True)
    size = RecordSize()
    # The line being read, where it branches from (parent line and index; None for the main
    # line), and the next index in it; the board holds every ply up to it.
    line: Game | Line = game
    origin: tuple[Game | Line, int] | None = None
    ply = 0
    pending: list[tuple[Game | Line, int, int]] = []  # (parent, index, plies on the board)
    more = has_moves
    while more or pending:
        if not more:
            parent, at, depth = pending.pop()
            while len(board.move_stack) > depth:
                board.pop()
            line, origin, ply = Line(ply=at), (parent, at), 0
            parent.variations.append(line)
            if reason := size.variation():
                raise PgnError(reason, source=source, game=index)
        record = read()
        if line is game and ply == 0:
            piece = board.piece_at(record.from_square) if 0 <= record.from_square < 90 else None
            if piece is not None and piece.color != board.turn:
                fields = game.fen.split()
                fields[1] = "w" if piece.color else "b"
                game.fen = " ".join(fields)
                board = start_board(game, source, index)
        if record.has_sibling:
            # An alternative to this move: a variation of the line this move branches from.
            parent, at = origin if ply == 0 and origin else (line, ply)
            pending.append((parent, at, len(board.move_stack)))
        depth = len(board.move_stack) + 1
        if reason := size.move(depth):
            raise PgnError(reason, source=source, game=index, ply=depth)
        move = _play(board, record, depth, line is game, source, index)
        line.moves.append(move)
        if record.comment:
            line.comments[ply + 1] = record.comment
        ply += 1
        more = record.has_next
    return game


def square_from_xy(file: int, rank: int) -> int:
    """Square of ``file`` 0..8 and ``rank`` 0..9, or -1 (off the board) if out of range."""
    return rank * 9 + file if 0 <= file < 9 and 0 <= rank < 10 else -1
