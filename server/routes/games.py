"""Saved games under ``/api/games``: create, list, import, read, play, take back, resign, PGN.

A game belongs to the client that created it: creating answers the player's secret, and moves,
take-backs and resignations without it (the ``X-Game-Secret`` header) are refused with 403. Anyone
who has a game's public id may read it and its PGN; the list shows a client only its own games.

Each write stores what :mod:`server.play` computed and builds the answer inside the same
transaction (``then=``), so a request that fails leaves the store as it was. The model's work
(new games, moves, imports) runs in the work queue's lanes (:mod:`server.work`); the rest are
plain ``def`` handlers that FastAPI runs in its threadpool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from play.levels import check_level
from xiangqi import STARTING_FEN, Board
from xiangqi.notation import parse_move
from xiangqi.pgn import replay

from .. import play
from ..db import NotYourGame, StoredGame, is_player, new_secret, player_key
from ..deps import GameId, Games, Model, Rng, Secret, Store, Work, lane_of
from ..errors import error_responses
from ..schemas import (
    GameList,
    GameState,
    ImportRequest,
    ImportResponse,
    NewGameRequest,
    NewGameResponse,
    Notation,
    PlayRequest,
    PlayResponse,
)

router = APIRouter(prefix="/api/games", tags=["games"])
MAX_OFFSET = 1_000_000


def _own(game: StoredGame, secret: str | None) -> None:
    """Raise :class:`NotYourGame` unless ``secret`` is the secret of ``game``'s player."""
    if not is_player(game, secret):
        raise NotYourGame(f"game {game.id} is not yours: moves, undo and resign need the secret it was "
                          "created with (the X-Game-Secret header)")


def _state(games: Games, game: StoredGame, board: Board, yours: bool) -> GameState:
    state = play.game_state(game, board, games)
    state.yours = yours
    return state


def _store_moves(store: Store, games: Games, game: StoredGame, board: Board) -> GameState:
    """Store ``board``'s moves and outcome (the game's version must still match) and answer
    the new state."""
    result, termination = play.outcome_fields(board.outcome())
    return store.update(game, moves=[m.uci() for m in board.move_stack], result=result,
                        termination=termination, then=lambda new: _state(games, new, board, True))


def _new_game(store: Store, games: Games, model: Model, rng: Rng, req: NewGameRequest, level: str,
              secret: str) -> NewGameResponse:
    board = replay(req.fen or STARTING_FEN, req.moves)
    reply = None
    if board.outcome() is None and board.turn != play.side_color(req.side):
        move, reply = model.reply(board, level, rng)
        board.push(move)
    result, termination = play.outcome_fields(board.outcome())
    return store.create(player=player_key(secret), start_fen=board.root().fen(),
                        moves=[m.uci() for m in board.move_stack], human_side=req.side, level=level,
                        result=result, termination=termination,
                        then=lambda game: NewGameResponse(**_state(games, game, board, True).model_dump(),
                                                          secret=secret, reply=reply))


@router.post("", response_model=NewGameResponse, status_code=201,
             responses=error_responses(400, 413, 422, 503))
async def new_game(store: Store, games: Games, model: Model, rng: Rng, work: Work, secret: Secret = None,
                   req: NewGameRequest | None = None) -> NewGameResponse:
    """Start a game, from the start position or ``fen`` (and ``moves`` played from it). When the
    other side is to move the model makes the first move; a position that is already over makes a
    finished game. The game belongs to the request's ``X-Game-Secret``, or to a new secret; the
    answer's ``secret`` is the one to send with its moves."""
    req = req or NewGameRequest()
    level = check_level(req.level)
    return await work.run(lane_of(level), _new_game, store, games, model, rng, req, level,
                          secret or new_secret())


@router.get("", response_model=GameList, responses=error_responses(422))
def list_games(store: Store, secret: Secret = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
               offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> GameList:
    """Your saved games (those of the ``X-Game-Secret`` sent), most recently played first; none
    without a secret."""
    if secret is None:
        return GameList(games=[], total=0)
    games, total = store.recent(player_key(secret), limit, offset)
    return GameList(games=[play.game_summary(g) for g in games], total=total)


def _import(store: Store, games: Games, req: ImportRequest, level: str, secret: str) -> ImportResponse:
    imported = play.import_record(*play.record_of(req), req.game)
    board = imported.board
    return store.create(player=player_key(secret), start_fen=board.root().fen(),
                        moves=[m.uci() for m in board.move_stack], human_side=play.side_name(board.turn),
                        level=level, result=imported.result, termination=imported.termination,
                        headers=imported.headers,
                        then=lambda game: ImportResponse(**_state(games, game, board, True).model_dump(),
                                                         secret=secret, library=imported.library))


@router.post("/import", response_model=ImportResponse, status_code=201,
             responses=error_responses(400, 413, 422, 503))
async def import_game(req: ImportRequest, store: Store, games: Games, work: Work,
                      secret: Secret = None) -> ImportResponse:
    """Create a game from a record's game ``game`` (default its first readable game): pasted text
    (PGN, DhtmlXQ, CBF) or a file in base64 (XQF, CBR, CBL, CBF, DhtmlXQ, PGN). Play goes on with
    the human as the side to move if the game is not over. A record of several games lists them in
    ``library``. The game belongs to the request's ``X-Game-Secret``, or to a new secret (the
    answer's ``secret``)."""
    level = check_level(req.level)
    return await work.run("play", _import, store, games, req, level, secret or new_secret())


@router.get("/{game_id}", response_model=GameState, responses=error_responses(404, 422))
def get_game(game_id: GameId, store: Store, games: Games, secret: Secret = None) -> GameState:
    """A saved game: position, moves in every notation, status and result; anyone with its id may
    read it (``yours`` says whether the request's secret may also play it)."""
    game = store.get(game_id)
    return _state(games, game, play.replayed(game, games), is_player(game, secret))


def _play_move(store: Store, games: Games, model: Model, rng: Rng, game: StoredGame,
               move_text: str) -> PlayResponse:
    board = play.replayed(game, games)
    play.check_human_move(game, board)
    move = parse_move(board, move_text)
    human = play.move_record(board, move)
    board.push(move)
    reply = None
    if board.outcome() is None:
        answer, reply = model.reply(board, game.level, rng, game.id)
        board.push(answer)
    return PlayResponse(move=human, reply=reply, game=_store_moves(store, games, game, board))


@router.post("/{game_id}/moves", response_model=PlayResponse,
             responses=error_responses(400, 403, 404, 409, 413, 422, 503))
async def play_move(game_id: GameId, req: PlayRequest, store: Store, games: Games, model: Model, rng: Rng,
                    work: Work, secret: Secret = None) -> PlayResponse:
    """Play the human's move (the game's ``X-Game-Secret`` required); the model answers unless
    the move ended the game."""
    game = await run_in_threadpool(store.get, game_id)
    _own(game, secret)
    return await work.run(lane_of(game.level), _play_move, store, games, model, rng, game, req.move)


@router.post("/{game_id}/undo", response_model=GameState, responses=error_responses(403, 404, 409, 422))
def undo(game_id: GameId, store: Store, games: Games, secret: Secret = None) -> GameState:
    """Take back the human's last move and the model's reply to it (the game's ``X-Game-Secret``
    required)."""
    game = store.get(game_id)
    _own(game, secret)
    board = play.replayed(game, games)
    play.take_back(game, board)
    return _store_moves(store, games, game, board)


@router.post("/{game_id}/resign", response_model=GameState, responses=error_responses(403, 404, 409, 422))
def resign(game_id: GameId, store: Store, games: Games, secret: Secret = None) -> GameState:
    """The human resigns (the game's ``X-Game-Secret`` required); the model's side wins."""
    game = store.get(game_id)
    _own(game, secret)
    board = play.replayed(game, games)
    result = play.resign_result(game)
    return store.update(game, moves=game.moves, result=result, termination="resignation",
                        then=lambda new: _state(games, new, board, True))


@router.get("/{game_id}/pgn", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
                       **error_responses(404, 422, text_route=True)})
def export_pgn(game_id: GameId, store: Store, games: Games,
               notation: Notation = "chinese") -> PlainTextResponse:
    """The game as PGN text, moves in Chinese (default), WXF or ICCS."""
    game = store.get(game_id)
    text = play.game_pgn(game, play.replayed(game, games), notation)
    return PlainTextResponse(text, headers={
        "Content-Disposition": f'attachment; filename="xqgpt-game-{game.id}.pgn"'})
