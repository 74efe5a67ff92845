"""The board as terminal text: Chinese pieces in colour, or plain letters.

Each point is a cell: a mark, the piece (or an empty point) and a mark. ``[ ]`` marks the two
points of the last move, ``! !`` the general in check. The Chinese style draws red and black
characters on a wooden background with ANSI colours; the plain style uses FEN letters (upper case
Red) and no escape codes. File numbers are written for both sides: Black's 1-9 from Black's right
and Red's 一-九 from Red's right (digits in the plain style), and the ICCS letters and ranks.
"""

from __future__ import annotations

from xiangqi import (
    ADVISOR,
    CANNON,
    CHARIOT,
    ELEPHANT,
    FILE_NAMES,
    GENERAL,
    HORSE,
    RED,
    SOLDIER,
    Board,
    Color,
    square,
)
from xiangqi.notation import CN_NUMERALS, FULLWIDTH_DIGITS

# Fourteen different characters, so that the sides differ even without colour.
RED_GLYPHS = {GENERAL: "帥", ADVISOR: "仕", ELEPHANT: "相", HORSE: "傌", CHARIOT: "俥", CANNON: "炮",
              SOLDIER: "兵"}
BLACK_GLYPHS = {GENERAL: "將", ADVISOR: "士", ELEPHANT: "象", HORSE: "馬", CHARIOT: "車", CANNON: "砲",
                SOLDIER: "卒"}
EMPTY_GLYPH = "・"
LAST_MARKS = ("[", "]")
CHECK_MARKS = ("!", "!")

RESET = "\x1b[0m"
WOOD = "\x1b[48;5;223m"  # the board's background
LAST_WOOD = "\x1b[48;5;186m"  # the points of the last move
CHECK_WOOD = "\x1b[48;5;217m"  # the general in check
RED_INK = "\x1b[1;38;5;160m"
BLACK_INK = "\x1b[1;38;5;16m"
GRID_INK = "\x1b[22;38;5;137m"


def file_labels(color: Color, chinese: bool, flipped: bool) -> list[str]:
    """The file numbers of ``color`` (counted from that side's right), left to right as drawn."""
    numbers = [9 - f if color == RED else f + 1 for f in range(9)]
    if flipped:
        numbers.reverse()
    if not chinese:
        return [str(n) for n in numbers]
    return [(CN_NUMERALS if color == RED else FULLWIDTH_DIGITS)[n - 1] for n in numbers]


def render_board(board: Board, *, chinese: bool = False, flipped: bool = False) -> str:
    """The position of ``board`` as text, Red at the bottom unless ``flipped``.

    The last move of ``board.move_stack`` and a general in check are marked; ``chinese`` selects
    Chinese characters with ANSI colours instead of plain letters.
    """
    last = board.move_stack[-1] if board.move_stack else None
    marked = {last.from_square, last.to_square} if last else set()
    checked = board.king(board.turn) if board.is_check() else None
    files = list(range(9))
    ranks = list(range(10))
    if flipped:
        files.reverse()
    else:
        ranks.reverse()
    width = 4 if chinese else 3  # columns of one cell

    def label_row(labels: list[str], caption: str) -> str:
        cells = "".join(f" {x}{' ' * (width - 1 - _columns(x))}" for x in labels)
        return f"   {cells} {caption}".rstrip()

    top, bottom = (RED, not RED) if flipped else (not RED, RED)
    lines = [label_row(file_labels(top, chinese, flipped), _side_caption(top))]
    for rank in ranks:
        cells = []
        for f in files:
            sq = square(f, rank)
            cells.append(_cell(board, sq, chinese, last=sq in marked, check=sq == checked))
        row = "".join(cells)
        lines.append(f"{rank:>2} {WOOD}{row}{RESET}" if chinese else f"{rank:>2} {row}".rstrip())
        if rank == (5 if not flipped else 4):
            lines.append("   " + _river(chinese, 9 * width))
    lines.append(label_row(file_labels(bottom, chinese, flipped), _side_caption(bottom)))
    lines.append(label_row([FILE_NAMES[f] for f in files], ""))
    return "\n".join(lines)


def _side_caption(color: Color) -> str:
    return "red" if color == RED else "black"


def _columns(text: str) -> int:
    """Terminal columns of label text: the CJK and full-width characters take two."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _cell(board: Board, sq: int, chinese: bool, *, last: bool, check: bool) -> str:
    piece = board.piece_at(sq)
    left, right = CHECK_MARKS if check else LAST_MARKS if last else (" ", " ")
    if not chinese:
        return f"{left}{piece.symbol() if piece else '.'}{right}"
    if piece is None:
        glyph = f"{GRID_INK}{EMPTY_GLYPH}"
    elif piece.color == RED:
        glyph = f"{RED_INK}{RED_GLYPHS[piece.piece_type]}"
    else:
        glyph = f"{BLACK_INK}{BLACK_GLYPHS[piece.piece_type]}"
    if not (last or check):
        return f" {glyph} "
    wood = CHECK_WOOD if check else LAST_WOOD
    return f"{wood}{BLACK_INK}{left}{glyph}{BLACK_INK}{right}{WOOD}"


def _river(chinese: bool, width: int) -> str:
    if not chinese:
        return " river ".center(width, "~")
    words = "楚 河          漢 界"
    pad = width - _columns(words)
    return f"{WOOD}{GRID_INK}{' ' * (pad // 2)}{words}{' ' * (pad - pad // 2)}{RESET}"
