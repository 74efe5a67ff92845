"""Game bookkeeping between the HTTP routes and the rules engine: importing, playing on, taking
back, resigning, the status of a game and its PGN. The model's moves are :mod:`server.serving`'s.

Nothing here writes to the database: the routes store what these functions computed, and build
their answer inside the same transaction (see :class:`server.db.GameStore`).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass

from xiangqi import BLACK, RED, Board, Color, Move, Outcome, XiangqiError
from xiangqi.notation import to_chinese, to_wxf
from xiangqi.pgn import Game, PgnError, replay, write_game
from xiangqi.records import read_any

from .db import StoredGame
from .schemas import (
    GameState,
    GameSummary,
    ImportRequest,
    LegalResponse,
    LibraryGame,
    MoveRecord,
    Notation,
    Status,
)

CACHED_GAMES = 256  # games whose board and move records are kept (about 60 kB a game of 100 plies)
CACHED_PLIES = 40_000  # and their moves in all: about 0.6–1.6 kB a ply (its record, the board's history)
SIDES: dict[Color, str] = {RED: "red", BLACK: "black"}
# Results that were not reached on the board: no move can be played or taken back after them.
OFF_BOARD_ENDINGS = ("resignation", "recorded_result")


class GameFinished(RuntimeError):
    """A move, resignation or take-back that the game's end does not allow."""


class NothingToUndo(RuntimeError):
    """Undo with no move of the human's to take back."""


class NotYourTurn(RuntimeError):
    """A move by the human while it is the model's turn."""


class GameOver(ValueError):
    """A position in which no move can be asked of the model."""


class CannotImport(ValueError):
    """A record with no readable game, or a file that is not valid base64."""


def side_name(color: Color) -> str:
    return SIDES[color]


def side_color(name: str) -> Color:
    return RED if name == "red" else BLACK


def outcome_fields(outcome: Outcome | None) -> tuple[str, str | None]:
    """(result, termination) of an outcome; ("*", None) while the game goes on."""
    if outcome is None:
        return "*", None
    return outcome.result(), outcome.termination.value


def status_of(termination: str | None) -> Status:
    """A game is finished exactly when it has a termination."""
    return "playing" if termination is None else "finished"


def winner_of(result: str) -> str | None:
    return {"1-0": "red", "0-1": "black"}.get(result)


def move_record(board: Board, move: Move) -> MoveRecord:
    """Describe ``move``, legal on ``board`` (which is left unchanged)."""
    return MoveRecord(ply=len(board.move_stack), side=side_name(board.turn), iccs=move.uci(),
                      wxf=to_wxf(board, move), chinese=to_chinese(board, move))


def legal_response(board: Board) -> LegalResponse:
    """Legal moves and the state of a position."""
    result, termination = outcome_fields(board.outcome())
    return LegalResponse(fen=board.fen(), turn=side_name(board.turn), in_check=board.is_check(),
                         moves=[m.uci() for m in board.legal_moves], status=status_of(termination),
                         result=result, termination=termination, winner=winner_of(result))


# ---------------------------------------------------------------- stored games


@dataclass(frozen=True)
class _Served:
    """A game as last served: its start position and ICCS moves, the board after them (never handed
    out) and the record of each move."""

    start_fen: str
    moves: list[str]
    board: Board
    records: tuple[MoveRecord, ...]


class GameCache:
    """The boards and move records of the games served last, by game id, so that a request
    replays and describes only the moves its game gained since (one or two), not the whole game.

    An entry counts only as far as its start position and moves agree with the game asked about,
    so an entry that is stale (a take-back, a write that was rolled back, another server process)
    or from another database costs time, never a wrong answer.
    """

    def __init__(self, size: int = CACHED_GAMES, plies: int = CACHED_PLIES) -> None:
        """Keep at most ``size`` games and ``plies`` moves in all (``plies_held`` now): a few long
        games take as much memory as many short ones."""
        self.size, self.plies = size, plies
        self.plies_held = 0
        self._entries: OrderedDict[str, _Served] = OrderedDict()
        self._lock = threading.Lock()

    def _lookup(self, game_id: str, start_fen: str, moves: list[str]) -> tuple[_Served | None, int]:
        """The game's entry, if it has the same start position, and how many first moves it shares
        with ``moves``."""
        with self._lock:
            entry = self._entries.get(game_id)
            if entry is not None:
                self._entries.move_to_end(game_id)
        if entry is None or entry.start_fen != start_fen:
            return None, 0
        shared = 0
        for a, b in zip(entry.moves, moves, strict=False):
            if a != b:
                break
            shared += 1
        return entry, shared

    def board(self, game: StoredGame) -> Board:
        """The board after the game's moves, with the moves on its stack; like
        :func:`xiangqi.pgn.replay`, a bad move raises its :class:`XiangqiError` naming it as
        ``moves[i]``."""
        entry, shared = self._lookup(game.id, game.start_fen, game.moves)
        if entry is None or shared == 0:
            return replay(game.start_fen, game.moves)
        board = entry.board.copy()
        while len(board.move_stack) > shared:
            board.pop()
        for i in range(shared, len(game.moves)):
            try:
                board.push(Move.from_uci(game.moves[i]))
            except XiangqiError as e:
                raise type(e)(f"moves[{i}]: {e}") from None
        return board

    def records(self, game: StoredGame, board: Board) -> list[MoveRecord]:
        """The record of each move on ``board``'s stack, played from the game's start position;
        the board and records are kept for the game's next request."""
        moves = [m.uci() for m in board.move_stack]
        entry, shared = self._lookup(game.id, game.start_fen, moves)
        records = list(entry.records[:shared]) if entry else []
        walk = board.copy()
        while len(walk.move_stack) > len(records):
            walk.pop()
        for move in board.move_stack[len(records):]:
            records.append(move_record(walk, move))
            walk.push(move)
        with self._lock:
            old = self._entries.pop(game.id, None)
            self.plies_held -= len(old.moves) if old else 0
            if len(moves) <= self.plies:  # a game larger than the whole cache is not kept
                self._entries[game.id] = _Served(game.start_fen, moves, walk, tuple(records))
                self.plies_held += len(moves)
            while len(self._entries) > self.size or self.plies_held > self.plies:
                _, dropped = self._entries.popitem(last=False)
                self.plies_held -= len(dropped.moves)
        return records

    def __len__(self) -> int:
        return len(self._entries)


def replayed(game: StoredGame, cache: GameCache) -> Board:
    """The board after a stored game's moves (from ``cache`` when it served the game last)."""
    return cache.board(game)


def game_state(game: StoredGame, board: Board, cache: GameCache) -> GameState:
    """The API view of a stored game whose moves have been replayed on ``board`` (from its start
    position); the board and its move records are kept in ``cache`` for the game's next request."""
    records = cache.records(game, board)
    finished = game.termination is not None
    outcome = board.outcome() if finished else None
    by_rule = outcome is not None and outcome.termination.value == game.termination
    ending = outcome.describe() if by_rule else None  # e.g. who chased what
    return GameState(
        id=game.id, created_at=game.created_at, updated_at=game.updated_at,
        human_side=game.human_side, level=game.level, start_fen=game.start_fen, fen=board.fen(),
        turn=side_name(board.turn), in_check=board.is_check(), moves=records,
        legal_moves=[] if finished else [m.uci() for m in board.legal_moves],
        status=status_of(game.termination), result=game.result,
        termination=game.termination, winner=winner_of(game.result), headers=game.headers, ending=ending)


def game_summary(game: StoredGame) -> GameSummary:
    title = game.headers.get("Event") or f"Game {game.id}"
    return GameSummary(id=game.id, created_at=game.created_at, updated_at=game.updated_at,
                       human_side=game.human_side, level=game.level, plies=len(game.moves),
                       status=status_of(game.termination), result=game.result,
                       termination=game.termination, title=title, headers=game.headers)


@dataclass
class ImportedGame:
    """The first readable game of a record, ready to store."""

    board: Board  # the final position, with the moves on its stack
    result: str
    termination: str | None
    headers: dict[str, str]
    library: list[LibraryGame]  # every readable game when the record holds more than one


def record_of(req: ImportRequest) -> tuple[str, bytes]:
    """The name and bytes of the record in an import request (pasted text or a base64 file)."""
    if req.data is None:
        return req.name or "the pasted text", (req.pgn or "").encode("utf-8")
    try:
        data = base64.b64decode(req.data, validate=True)
    except ValueError as e:  # binascii.Error, or characters outside ASCII
        raise CannotImport(f"data is not valid base64: {e}") from None
    return req.name or "the uploaded file", data


def import_record(name: str, data: bytes, index: int | None = None) -> ImportedGame:
    """Read game ``index`` of a record in any supported format (PGN, XQF, CBR, CBL, CBF,
    DhtmlXQ), by default its first readable game; a recorded result ends a game the board leaves
    open. A record of several games (a CBL library) lists them all in ``library``.

    Raises :class:`CannotImport` with the reader's reason when no game can be read."""
    items = list(read_any(name, data))
    games = [(i, item) for i, item in enumerate(items) if not isinstance(item, PgnError)]
    if not games:
        first_error = next((item for item in items if isinstance(item, PgnError)), None)
        raise CannotImport(f"cannot import: {first_error}" if first_error else f"no game found in {name}")
    item = dict(games).get(games[0][0] if index is None else index)
    if item is None:
        raise CannotImport(f"{name} has no readable game {index} (its games are numbered "
                           f"{games[0][0]} to {games[-1][0]})")
    board = item.end_board()
    result, termination = outcome_fields(board.outcome())
    if termination is None and item.result != "*":
        result, termination = item.result, "recorded_result"
    headers = {k: v for k, v in item.headers.items() if k not in ("Result", "FEN", "Format")}
    library = [LibraryGame(index=i, title=_record_title(g), plies=len(g.moves), result=g.result)
               for i, g in games] if len(games) > 1 else []
    return ImportedGame(board, result, termination, headers, library)


def _record_title(game: Game) -> str:
    """A game of a record for a list: its Title header, else its players."""
    h = game.headers
    return h.get("Title") or " – ".join(filter(None, [h.get("Red"), h.get("Black")])) or h.get("Event", "?")


def check_human_move(game: StoredGame, board: Board) -> None:
    """Raise unless the human may move now in ``game`` (replayed on ``board``)."""
    if game.termination is not None:
        raise GameFinished(f"game {game.id} is over ({game.termination}); start a new game")
    if board.turn != side_color(game.human_side):
        raise NotYourTurn(f"it is not {game.human_side}'s turn in game {game.id}")


def resign_result(game: StoredGame) -> str:
    """The result when the human resigns ``game``: the model's side wins."""
    if game.termination is not None:
        raise GameFinished(f"game {game.id} is already over ({game.termination})")
    return "0-1" if game.human_side == "red" else "1-0"


def take_back(game: StoredGame, board: Board) -> None:
    """Pop the human's last move and the model's reply after it (if any) from ``board``.

    A game that ended on the board (checkmate, stalemate, a rule draw) can be taken back and
    goes on; a resignation or a recorded result stands (:class:`GameFinished`).
    """
    if game.termination in OFF_BOARD_ENDINGS:
        raise GameFinished(f"game {game.id} is over ({game.termination}) and its result stands; "
                           "start a new game")
    human = side_color(game.human_side)
    # Index of the human's last move: plies alternate, the root's side to move made ply 0.
    root_turn = board.root().turn
    last_human = None
    for i in range(len(board.move_stack) - 1, -1, -1):
        if (root_turn if i % 2 == 0 else not root_turn) == human:
            last_human = i
            break
    if last_human is None:
        raise NothingToUndo(f"game {game.id} has no move of yours to take back")
    while len(board.move_stack) > last_human:
        board.pop()


def game_pgn(game: StoredGame, board: Board, notation: Notation) -> str:
    """PGN text of a stored game (replayed on ``board``): players, date, its own headers."""
    model_name = f"Xiangqi-GPT ({game.level})"
    headers = {"Event": f"Xiangqi-GPT game {game.id}", "Site": "xqgpt serve",
               "Date": game.created_at.strftime("%Y.%m.%d"),
               "Red": "Human" if game.human_side == "red" else model_name,
               "Black": "Human" if game.human_side == "black" else model_name}
    headers.update(game.headers)
    return write_game(Game(headers=headers, fen=game.start_fen, moves=list(board.move_stack),
                           result=game.result), notation)
