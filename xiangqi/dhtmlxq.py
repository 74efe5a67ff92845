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
from collections.abc import Iterator

from .base import Move
from .core import Board
from .movetree import placement_fen, start_board
from .pgn import Game, Line, PgnError
from .xqf import PIECE_LETTERS

_BLOCK_RE = re.compile(r"\[DhtmlXQ(?:HTML)?\](.*?)\[/DhtmlXQ(?:HTML)?\]", re.S | re.I)
_TAG_RE = re.compile(r"\[DhtmlXQ_(\w+)\](.*?)\[/DhtmlXQ_\1\]", re.S)
_BRANCH_RE = re.compile(r"move_(\d+)_(\d+)_(\d+)$")
_COMMENT_RE = re.compile(r"comment(?:(\d+)_)?(\d+)$")
HEADERS = {"title": "Title", "event": "Event", "date": "Date", "place": "Site", "round": "Round",
           "red": "Red", "black": "Black", "open": "Opening", "redteam": "RedTeam",
           "blackteam": "BlackTeam", "group": "Group", "table": "Table", "timerule": "TimeControl",
           "gametype": "GameType", "owner": "Annotator", "author": "Author"}
RESULTS = {"红胜": "1-0", "紅勝": "1-0", "黑胜": "0-1", "黑勝": "0-1", "和棋": "1/2-1/2",
           "1-0": "1-0", "0-1": "0-1", "1/2-1/2": "1/2-1/2"}


def is_dhtmlxq(text: str) -> bool:
    """Whether ``text`` holds DhtmlXQ tags."""
    return "[DhtmlXQ_" in text


def _square(digits: str) -> int:
    """Square of two digits (file, rank from Black's side); -1 if off the board."""
    file, rank = int(digits[0]), 9 - int(digits[1])
    return rank * 9 + file if file < 9 else -1


def _start_fen(binit: str) -> str:
    pieces: dict[int, str] = {}
    for i in range(32):
        sq = _square(binit[2 * i:2 * i + 2])
        if sq >= 0:
            letter = PIECE_LETTERS[i % 16]
            pieces[sq] = letter if i < 16 else letter.lower()
    return placement_fen(pieces)


def _moves(digits: str) -> list[tuple[int, int]]:
    return [(_square(digits[i:i + 2]), _square(digits[i + 2:i + 4]))
            for i in range(0, len(digits) - 3, 4)]


def read_dhtmlxq_game(tags: dict[str, str], *, source: str = "", index: int = 0) -> Game:
    """One game from its DhtmlXQ tags (name without ``DhtmlXQ_`` → value)."""
    def fail(reason: str, ply: int | None = None, text: str = "") -> PgnError:
        return PgnError(reason, source=source, game=index, ply=ply, text=text)

    headers = {HEADERS[k]: v.strip() for k, v in tags.items() if k in HEADERS and v.strip()}
    result = RESULTS.get(tags.get("result", "").strip(), "*")
    headers["Result"] = result
    binit = tags.get("binit", "").strip()
    if binit and not re.fullmatch(r"\d{64}", binit):
        raise fail(f"bad position: binit must be 64 digits, got {binit[:70]!r}")
    game = Game(headers=headers, result=result)
    if binit:
        game.fen = _start_fen(binit)
    movelist = re.sub(r"\s", "", tags.get("movelist", ""))
    branches: list[tuple[int, int, int, str]] = []  # (number, base line, start move, digits)
    for name, value in tags.items():
        if m := _BRANCH_RE.match(name):
            branches.append((int(m[3]), int(m[1]), int(m[2]), re.sub(r"\s", "", value)))
    for digits in [movelist] + [b[3] for b in branches]:
        if not re.fullmatch(r"(\d{4})*", digits):
            raise fail(f"invalid move list: {digits[:40]!r} is not four digits a move")
    first = _moves(movelist)
    board = start_board(game, source, index, either_side=True)
    if first and first[0][0] >= 0 and (piece := board.piece_at(first[0][0])) is not None \
            and piece.color != board.turn:
        game.fen = game.fen.replace(" w ", " b ")
        board = start_board(game, source, index)
    # Each line: the Game or Line object, the number of its first move, its start board.
    known: dict[int, tuple[Game | Line, int, Board]] = {0: (game, 1, board)}
    todo = [(0, 0, 1, movelist)] + sorted(branches)
    for number, base, start, digits in todo:
        if number == 0:
            line, board = game, board.copy()
        else:
            if base not in known:
                raise fail(f"bad variation: variation {number} branches from absent variation {base}")
            parent, parent_start, parent_board = known[base]
            at = start - parent_start
            if not 0 <= at <= len(parent.moves):
                raise fail(f"bad variation: variation {number} starts at move {start}, outside its "
                           "parent line")
            line, board = Line(ply=at), parent_board.copy()
            for move in parent.moves[:at]:
                board.push(move)
            parent.variations.append(line)
        known[number] = (line, start, board.copy())
        for i, (frm, to) in enumerate(_moves(digits)):
            ply = start + i
            where = "" if number == 0 else " in a variation"
            move = Move(frm, to) if frm >= 0 and to >= 0 else None
            if move is None or not board.is_legal(move):
                uci = move.uci() if move else digits[4 * i:4 * i + 4]
                raise fail(f"illegal move{where}: {uci} in {board.fen()}", ply, uci)
            board.push(move)
            line.moves.append(move)
    for name, value in tags.items():
        if (m := _COMMENT_RE.match(name)) and value.strip():
            number, ply = int(m[1] or 0), int(m[2])
            if number in known:
                line, start, _ = known[number]
                line.comments[max(ply - start + 1, 0)] = value.strip().replace("||", "\n")
    return game


def read_dhtmlxq(text: str, *, source: str = "") -> Iterator[Game | PgnError]:
    """Every game of a DhtmlXQ text: a :class:`Game`, or the :class:`PgnError` rejecting it."""
    blocks = _BLOCK_RE.findall(text) or [text]
    for index, block in enumerate(blocks):
        tags = {name.lower(): value for name, value in _TAG_RE.findall(block)}
        try:
            if not tags:
                raise PgnError("no game: no DhtmlXQ tags", source=source, game=index)
            yield read_dhtmlxq_game(tags, source=source, index=index)
        except PgnError as e:
            yield e
