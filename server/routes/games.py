"""Saved games under ``/api/games``: create, list, import, read, play, take back, resign, PGN.

Each write stores what :mod:`server.play` computed and builds the answer inside the same
transaction (``then=``), so a request that fails leaves the store as it was. Handlers are plain
``def`` functions: FastAPI runs them in its threadpool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from play.levels import check_level
from xiangqi import STARTING_FEN, Board
from xiangqi.notation import parse_move

from .. import play
from ..db import StoredGame
from ..deps import MAX_GAME_ID, GameId, Model, Rng, Store
from ..errors import error_responses
from ..schemas import (
    GameList,
    GameState,
    ImportRequest,
    NewGameRequest,
    NewGameResponse,
    Notation,
    PlayRequest,
    PlayResponse,
)

router = APIRouter(prefix="/api/games", tags=["games"])


def _replayed(game: StoredGame) -> Board:
    return play.replayed(game)


def _store_moves(store: Store, game: StoredGame, board: Board) -> GameState:
    """Store ``board``'s moves and outcome (the game's version must still match) and answer
    the new state."""
    result, termination = play.outcome_fields(board.outcome())
    return store.update(game, moves=[m.uci() for m in board.move_stack], result=result,
                        termination=termination, then=lambda new: play.game_state(new, board))


@router.post("", response_model=NewGameResponse, status_code=201, responses=error_responses(400, 413, 422))
def new_game(store: Store, model: Model, rng: Rng, req: NewGameRequest | None = None) -> NewGameResponse:
    """Start a game, from the start position or ``fen``. When the other side is to move the model
    makes the first move; a position that is already over makes a finished game."""
    req = req or NewGameRequest()
    level = check_level(req.level)
    board = Board(req.fen or STARTING_FEN)
    reply = None
    if board.outcome() is None and board.turn != play.side_color(req.side):
        move, reply = model.reply(board, level, rng)
        board.push(move)
    result, termination = play.outcome_fields(board.outcome())
    return store.create(start_fen=board.root().fen(), moves=[m.uci() for m in board.move_stack],
                        human_side=req.side, level=level, result=result, termination=termination,
                        then=lambda game: NewGameResponse(**play.game_state(game, board).model_dump(),
                                                          reply=reply))


@router.get("", response_model=GameList, responses=error_responses(422))
def list_games(store: Store, limit: Annotated[int, Query(ge=1, le=100)] = 20,
               offset: Annotated[int, Query(ge=0, le=MAX_GAME_ID)] = 0) -> GameList:
    """Saved games, most recently played first."""
    games, total = store.recent(limit, offset)
    return GameList(games=[play.game_summary(g) for g in games], total=total)


@router.post("/import", response_model=GameState, status_code=201, responses=error_responses(400, 413, 422))
def import_game(req: ImportRequest, store: Store) -> GameState:
    """Create a game from a record's first readable game: pasted text (PGN, DhtmlXQ, CBF) or a
    file in base64 (XQF, CBR, CBL, CBF, DhtmlXQ, PGN). Play goes on with the human as the side
    to move if the game is not over."""
    level = check_level(req.level)
    imported = play.import_record(*play.record_of(req))
    board = imported.board
    return store.create(start_fen=board.root().fen(), moves=[m.uci() for m in board.move_stack],
                        human_side=play.side_name(board.turn), level=level, result=imported.result,
                        termination=imported.termination, headers=imported.headers,
                        then=lambda game: play.game_state(game, board))


@router.get("/{game_id}", response_model=GameState, responses=error_responses(404, 422))
def get_game(game_id: GameId, store: Store) -> GameState:
    """A saved game: position, moves in every notation, status and result."""
    game = store.get(game_id)
    return play.game_state(game, _replayed(game))


@router.post("/{game_id}/moves", response_model=PlayResponse,
             responses=error_responses(400, 404, 409, 413, 422))
def play_move(game_id: GameId, req: PlayRequest, store: Store, model: Model, rng: Rng) -> PlayResponse:
    """Play the human's move; the model answers unless the move ended the game."""
    game = store.get(game_id)
    board = _replayed(game)
    play.check_human_move(game, board)
    move = parse_move(board, req.move)
    human = play.move_record(board, move)
    board.push(move)
    reply = None
    if board.outcome() is None:
        answer, reply = model.reply(board, game.level, rng, game.id)
        board.push(answer)
    return PlayResponse(move=human, reply=reply, game=_store_moves(store, game, board))


@router.post("/{game_id}/undo", response_model=GameState, responses=error_responses(404, 409, 422))
def undo(game_id: GameId, store: Store) -> GameState:
    """Take back the human's last move and the model's reply to it."""
    game = store.get(game_id)
    board = _replayed(game)
    play.take_back(game, board)
    return _store_moves(store, game, board)


@router.post("/{game_id}/resign", response_model=GameState, responses=error_responses(404, 409, 422))
def resign(game_id: GameId, store: Store) -> GameState:
    """The human resigns; the model's side wins."""
    game = store.get(game_id)
    board = _replayed(game)
    result = play.resign_result(game)
    return store.update(game, moves=game.moves, result=result, termination="resignation",
                        then=lambda new: play.game_state(new, board))


@router.get("/{game_id}/pgn", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
                       **error_responses(404, 422, text_route=True)})
def export_pgn(game_id: GameId, store: Store, notation: Notation = "chinese") -> PlainTextResponse:
    """The game as PGN text, moves in Chinese (default), WXF or ICCS."""
    game = store.get(game_id)
    text = play.game_pgn(game, _replayed(game), notation)
    return PlainTextResponse(text, headers={
        "Content-Disposition": f'attachment; filename="xqgpt-game-{game.id}.pgn"'})
