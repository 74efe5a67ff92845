"""Reading DhtmlXQ / UBB game text, the format of many Chinese xiangqi web sites.

A game is a run of ``[DhtmlXQ_name]value[/DhtmlXQ_name]`` tags (see docs/formats.md):

- ``binit``: 64 digits, two a piece (file 0..8 from Red's left, rank 0..9 from Black's side;
  ``99`` off the board) for Red's then Black's chariot, horse, elephant, advisor, general,
  advisor, elephant, horse, chariot, two cannons and five soldiers. Absent: the usual start.
- ``movelist``: the main line, four digits a move (from file, from rank, to file, to rank).
- ``move_B_S_N``: variation ``N``, an alternative to move ``S`` (counted from 1 at the start of
  the game) of line ``B`` (0: the main line).
- ``comment0`` (before the first move), ``commentS`` (after main-line move ``S``) and
  ``commentN_S`` (after move ``S`` of variation ``N``); ``||`` is a line break.
- Headers: ``title``, ``event``, ``date``, ``place``, ``round``, ``red``, ``black``,
  ``result`` (红胜, 黑胜, 和棋) and others, kept under PGN names where PGN has one.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator

from .base import Move
from .core import Board
from .limits import RecordSize, header_error, parse_int
from .movetree import placement_fen, start_board
from .pgn import Game, Line, PgnError
from .xqf import PIECE_LETTERS

_BLOCK_TOKEN_RE = re.compile(r"\[(/?)DhtmlXQ(?:HTML)?\]", re.I)
_TAG_TOKEN_RE = re.compile(r"\[(/?)DhtmlXQ_(\w+)\]")
_BRANCH_RE = re.compile(r"move_(\d+)_(\d+)_(\d+)$")
_COMMENT_RE = re.compile(r"comment(?:(\d+)_)?(\d+)$")
_INDEX_MAX = 10 ** 9  # a variation's number, a move's number
HEADERS = {"title": "Title", "event": "Event", "date": "Date", "place": "Site", "round": "Round",
           "red": "Red", "black": "Black", "open": "Opening", "redteam": "RedTeam",
           "blackteam": "BlackTeam", "group": "Group", "table": "Table", "timerule": "TimeControl",
           "gametype": "GameType", "owner": "Annotator", "author": "Author"}
RESULTS = {"红胜": "1-0", "紅勝": "1-0", "黑胜": "0-1", "黑勝": "0-1", "和棋": "1/2-1/2",
           "1-0": "1-0", "0-1": "0-1", "1/2-1/2": "1/2-1/2"}


def is_dhtmlxq(text: str) -> bool:
    """Whether ``text`` holds DhtmlXQ tags."""
    return "[DhtmlXQ_" in text


def _spans(text: str, token_re: re.Pattern, named: bool) -> list[tuple[str, int, int]]:
    """``(name, start, end)`` of each element's content: an opening token of ``token_re`` with the
    first closing one after it (of the same name when ``named``), left to right, elements not
    overlapping; an opening token without one is skipped. One pass over the text and a binary
    search per opening token: a regular expression with a lazy ``.*?`` up to a closing token
    scans to the end of the text from every unclosed one."""
    opens, closes = [], {}
    for m in token_re.finditer(text):
        name = m[2] if named else ""
        if m[1]:
            closes.setdefault(name, []).append(m.start())
        else:
            opens.append((name, m.start(), m.end()))
    spans, cursor = [], 0
    for name, start, end in opens:
        ends = closes.get(name, ())
        i = bisect_left(ends, end) if start >= cursor else len(ends)
        if i < len(ends):
            spans.append((name, end, ends[i]))
            cursor = text.index("]", ends[i]) + 1
    return spans


def _tags(block: str) -> dict[str, str]:
    """The tags of a block: lower-case name without ``DhtmlXQ_`` → value (the last of a name)."""
    return {name.lower(): block[start:end] for name, start, end in _spans(block, _TAG_TOKEN_RE, True)}


def _square(digits: str) -> int:
    """Square of two digits (file, rank from Black's side); -1 if off the board."""
    file, rank = ord(digits[0]) - 48, 9 - (ord(digits[1]) - 48)
    return rank * 9 + file if file < 9 else -1


def _start_fen(binit: str) -> str:
    pieces: dict[int, str] = {}
    for i in range(32):
        sq = _square(binit[2 * i:2 * i + 2])
        if sq >= 0:
            letter = PIECE_LETTERS[i % 16]
            pieces[sq] = letter if i < 16 else letter.lower()
    return placement_fen(pieces)


def _moves(digits: str) -> list[tuple[int, int, str]]:
    """The moves of a move list: from and to square (-1 off the board), and the four digits."""
    return [(_square(digits[i:i + 2]), _square(digits[i + 2:i + 4]), digits[i:i + 4])
            for i in range(0, len(digits) - 3, 4)]


def read_dhtmlxq_game(tags: dict[str, str], *, source: str = "", index: int = 0) -> Game:
    """One game from its DhtmlXQ tags (name without ``DhtmlXQ_`` → value). Raises
    :class:`PgnError` on a bad position, variation or move, or a record beyond the bounds of
    :mod:`xiangqi.limits`."""
    def fail(reason: str, ply: int | None = None, text: str = "") -> PgnError:
        return PgnError(reason, source=source, game=index, ply=ply, text=text)

    headers = {HEADERS[k]: v.strip() for k, v in tags.items() if k in HEADERS and v.strip()}
    if reason := header_error(headers):
        raise fail(reason)
    result = RESULTS.get(tags.get("result", "").strip(), "*")
    headers["Result"] = result
    binit = tags.get("binit", "").strip()
    if binit and not re.fullmatch(r"[0-9]{64}", binit):
        raise fail(f"bad position: binit must be 64 digits, got {binit[:70]!r}")
    game = Game(headers=headers, result=result)
    if binit:
        game.fen = _start_fen(binit)
    size = RecordSize()
    movelist = re.sub(r"\s", "", tags.get("movelist", ""))
    branches: list[tuple[int, int, int, str]] = []  # (number, base line, start move, digits)
    for name, value in tags.items():
        if m := _BRANCH_RE.match(name):
            number, base, start = (parse_int(m[i], 0, _INDEX_MAX) for i in (3, 1, 2))
            if number is None or base is None or start is None or number == 0:
                raise fail(f"bad variation: tag {name[:60]!r} (numbers from 1 to {_INDEX_MAX})")
            if reason := size.variation():
                raise fail(reason)
            branches.append((number, base, start, re.sub(r"\s", "", value)))
    for digits in [movelist] + [b[3] for b in branches]:
        if not re.fullmatch(r"(?:[0-9]{4})*", digits):
            raise fail(f"invalid move list: {digits[:40]!r} is not four digits a move")
    first = _moves(movelist)
    board = start_board(game, source, index, either_side=True)
    if first and first[0][0] >= 0 and (piece := board.piece_at(first[0][0])) is not None \
            and piece.color != board.turn:
        game.fen = game.fen.replace(" w ", " b ")
        board = start_board(game, source, index)
    # The tree first, without a board: each line's number of its first move and its moves as
    # squares, and the variations branching off each line, by the index of the move they replace.
    known: dict[int, tuple[Game | Line, int]] = {0: (game, 1)}
    squares: dict[int, list[tuple[int, int, str]]] = {id(game): first}
    children: dict[int, dict[int, list[Line]]] = {}
    for number, base, start, digits in sorted(branches):
        if base not in known:
            raise fail(f"bad variation: variation {number} branches from absent variation {base}")
        parent, parent_start = known[base]
        at = start - parent_start
        if not 0 <= at <= len(squares[id(parent)]):
            raise fail(f"bad variation: variation {number} starts at move {start}, outside its "
                       "parent line")
        line = Line(ply=at)
        parent.variations.append(line)
        children.setdefault(id(parent), {}).setdefault(at, []).append(line)
        known[number] = (line, start)
        squares[id(line)] = _moves(digits)
    _replay(game, board, squares, children, size, fail)
    for name, value in tags.items():
        if (m := _COMMENT_RE.match(name)) and value.strip():
            number, ply = parse_int(m[1] or "0", 0, _INDEX_MAX), parse_int(m[2], 0, _INDEX_MAX)
            if number in known and ply is not None:
                line, start = known[number]
                line.comments[max(ply - start + 1, 0)] = value.strip().replace("||", "\n")
    return game


def _replay(game: Game, board: Board, squares: dict[int, list[tuple[int, int, str]]],
            children: dict[int, dict[int, list[Line]]], size: RecordSize,
            fail: Callable[..., PgnError]) -> None:
    """Check every move of the tree on one board, depth first, into the lines' ``moves``: a
    variation is played from the position before the move it replaces and taken back after, so
    the work is one push and one pop a move."""
    stack: list[list] = [[game, 0, 0]]  # (line, index of its next move, variations begun there)
    while stack:
        frame = stack[-1]
        line, i, begun = frame
        variations = children.get(id(line), {}).get(i, ())
        if begun < len(variations):
            frame[2] += 1
            stack.append([variations[begun], 0, 0])
            continue
        moves = squares[id(line)]
        if i == len(moves):
            for _ in line.moves:
                board.pop()
            stack.pop()
            continue
        ply = len(board.move_stack) + 1
        if reason := size.move(ply):
            raise fail(reason, ply)
        frm, to, digits = moves[i]
        move = Move(frm, to) if frm >= 0 and to >= 0 else None
        if move is None or not board.is_legal(move):
            where = "" if line is game else " in a variation"
            uci = move.uci() if move else digits
            raise fail(f"illegal move{where}: {uci} in {board.fen()}", ply, uci)
        board.push(move)
        line.moves.append(move)
        frame[1], frame[2] = i + 1, 0


def read_dhtmlxq(text: str, *, source: str = "") -> Iterator[Game | PgnError]:
    """Every game of a DhtmlXQ text: a :class:`Game`, or the :class:`PgnError` rejecting it."""
    blocks = [text[start:end] for _, start, end in _spans(text, _BLOCK_TOKEN_RE, False)] or [text]
    for index, block in enumerate(blocks):
        tags = _tags(block)
        try:
            if not tags:
                raise PgnError("no game: no DhtmlXQ tags", source=source, game=index)
            yield read_dhtmlxq_game(tags, source=source, index=index)
        except PgnError as e:
            yield e
