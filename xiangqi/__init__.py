"""Xiangqi (Chinese chess) rules engine with a python-chess-like API."""

from .base import (
    ADVISOR,
    BLACK,
    CANNON,
    CHARIOT,
    COLOR_NAMES,
    DEFAULT_MAX_PLIES_WITHOUT_CAPTURE,
    ELEPHANT,
    FILE_NAMES,
    GENERAL,
    HORSE,
    PIECE_TYPES,
    RED,
    SOLDIER,
    SQUARES,
    STARTING_FEN,
    AmbiguousMoveError,
    Color,
    IllegalMoveError,
    InvalidFenError,
    InvalidMoveError,
    Move,
    Piece,
    PieceType,
    Square,
    XiangqiError,
    mirror_square,
    parse_square,
    rotate_square,
    square,
    square_file,
    square_name,
    square_rank,
)
from .core import Board, Outcome, Termination
from .vocab import MOVES, VOCAB_SIZE, index_move, legal_mask, move_index

__all__ = [
    "ADVISOR", "BLACK", "CANNON", "CHARIOT", "COLOR_NAMES", "DEFAULT_MAX_PLIES_WITHOUT_CAPTURE",
    "ELEPHANT", "FILE_NAMES", "GENERAL", "HORSE", "PIECE_TYPES", "RED", "SOLDIER", "SQUARES",
    "STARTING_FEN", "AmbiguousMoveError", "Board", "Color", "IllegalMoveError", "InvalidFenError",
    "InvalidMoveError", "Move", "Outcome", "Piece", "PieceType", "Square", "Termination",
    "XiangqiError", "mirror_square", "parse_square", "rotate_square", "square", "square_file",
    "square_name", "square_rank", "MOVES", "VOCAB_SIZE", "index_move", "legal_mask", "move_index",
]
