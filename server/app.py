"""The FastAPI application: move API, saved games and the web board at ``/``.

Route handlers that touch the model or the database are plain ``def`` functions, so FastAPI runs
them in its threadpool and the event loop stays free while the model thinks.
"""

from __future__ import annotations

import argparse
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiangqi import STARTING_FEN, Board, Move, XiangqiError
from xiangqi.notation import parse_move
from xiangqi.pgn import Game, PgnError, read_games, write_game

from . import play
from .db import GameConflict, GameNotFound, GameRecord, GameStore, default_db_url
from .schemas import (
    ErrorResponse,
    GameList,
    GameState,
    Health,
    ImportRequest,
    LegalResponse,
    Level,
    LevelList,
    MoveRequest,
    MoveResponse,
    NewGameRequest,
    NewGameResponse,
    Notation,
    PlayRequest,
    PlayResponse,
)

if TYPE_CHECKING:
    from model.policy import Policy

log = logging.getLogger("xqgpt.server")

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
MAX_BODY_BYTES = 1_000_000
MAX_GAME_ID = 2**31 - 1

GameId = Annotated[int, PathParam(ge=1, le=MAX_GAME_ID, description="game id")]


def _errors(*codes: int, text_route: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes a route can answer: JSON :class:`ErrorResponse`.

    On a route whose own response class is plain text, the schema is referenced directly (a
    ``model`` would be documented under text/plain too); other routes register the model.
    """
    if not text_route:
        return {code: {"model": ErrorResponse} for code in codes}
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {code: {"content": {"application/json": {"schema": schema}}} for code in codes}


class BodyLimit:
    """ASGI middleware: answer 413 to a request whose body exceeds ``limit`` bytes.

    The body is read here (chunked bodies included) and replayed to the app, so the app never
    sees a partial body.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": f"request body too large (limit {self.limit} bytes)"}, 413)
        await response(scope, receive, send)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    """Every error becomes JSON ``{"detail": "..."}`` with a 4xx code (500 only for real bugs)."""

    def handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def respond(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status)
        return respond

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, 422)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, 500)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(XiangqiError, handler(422))
    app.add_exception_handler(play.UnknownLevel, handler(422))
    app.add_exception_handler(GameNotFound, handler(404))
    app.add_exception_handler(GameConflict, handler(409))
    app.add_exception_handler(play.GameFinished, handler(409))
    app.add_exception_handler(play.NothingToUndo, handler(409))
    app.add_exception_handler(Exception, unexpected)


def _position(fen: str | None, moves: list[str]) -> Board:
    """The board after ICCS ``moves`` from ``fen``; errors name the offending move."""
    board = Board(STARTING_FEN if fen is None else fen)
    for i, text in enumerate(moves):
        try:
            board.push(Move.from_uci(text))
        except XiangqiError as e:
            raise type(e)(f"moves[{i}]: {e}") from None
    return board


def create_app(policy: Policy | None = None, db_url: str | None = None, *,
               model_path: str | None = None) -> FastAPI:
    """The application. ``policy`` defaults to ``Policy.load(model_path)``, ``db_url`` to SQLite
    in the user data dir (:func:`server.db.default_db_url`)."""
    if policy is None:
        from model.policy import Policy

        policy = Policy.load(model_path)
    player = play.Player(policy, model_path or "shipped default model")
    store = GameStore(db_url or default_db_url())
    rng = random.SystemRandom()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        store.close()

    app = FastAPI(title="Xiangqi-GPT", version="0.1.0", lifespan=lifespan,
                  description="Play xiangqi against a GPT-2 move model: stateless move API and saved games.")
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    def finish(game: GameRecord, board: Board) -> GameRecord:
        """Store ``board``'s moves and outcome (the game's version must still match)."""
        result, termination = play.outcome_fields(board.outcome())
        return store.update(game, moves=[m.uci() for m in board.move_stack], result=result,
                            termination=termination)

    @app.get("/api/health", response_model=Health, tags=["meta"])
    async def health() -> Health:
        """The server is up and the model is loaded."""
        return Health(status="ok", model=player.source, database=store.engine.dialect.name)

    @app.get("/api/levels", response_model=LevelList, tags=["meta"])
    async def levels() -> LevelList:
        """Playing levels of the model."""
        return LevelList(levels=[Level(name=k, description=v) for k, v in play.LEVELS.items()],
                         default=play.DEFAULT_LEVEL)

    @app.post("/api/move", response_model=MoveResponse, responses=_errors(400, 413, 422), tags=["model"])
    def model_move(req: MoveRequest) -> MoveResponse:
        """The model's move in a position (no game is stored). Neither fen nor moves: the start."""
        board = _position(req.fen, req.moves)
        over = board.outcome()
        if over is not None:
            raise HTTPException(422, f"the game is already over ({over.termination.value}): no move to make")
        move, candidates = player.sample(board, req.temperature, req.top_k, rng)
        record = play.move_record(board, move)
        board.push(move)
        result, termination = play.outcome_fields(board.outcome())
        return MoveResponse(move=record.iccs, wxf=record.wxf, chinese=record.chinese, candidates=candidates,
                            fen=board.fen(), status="playing" if termination is None else "finished",
                            result=result, termination=termination, winner=play.winner_of(result))

    @app.get("/api/legal", response_model=LegalResponse, responses=_errors(422), tags=["model"])
    def legal(fen: Annotated[str, Query(max_length=256, description="FEN")] = STARTING_FEN) -> LegalResponse:
        """Legal moves (ICCS) and the state of a position."""
        board = Board(fen)
        result, termination = play.outcome_fields(board.outcome())
        return LegalResponse(fen=board.fen(), turn=play.side_name(board.turn), in_check=board.is_check(),
                             moves=[m.uci() for m in board.legal_moves],
                             status="playing" if termination is None else "finished",
                             result=result, termination=termination, winner=play.winner_of(result))

    @app.post("/api/games", response_model=NewGameResponse, status_code=201,
              responses=_errors(400, 413, 422), tags=["games"])
    def new_game(req: NewGameRequest | None = None) -> NewGameResponse:
        """Start a game. When the human plays black the model makes the first move."""
        req = req or NewGameRequest()
        level = play.validate_level(req.level)
        board = Board(STARTING_FEN)
        reply = None
        if req.side == "black":
            move, reply = player.reply(board, level, rng)
            board.push(move)
        game = store.create(start_fen=STARTING_FEN, moves=[m.uci() for m in board.move_stack],
                            human_side=req.side, level=level)
        return NewGameResponse(**play.game_state(game, board).model_dump(), reply=reply)

    @app.get("/api/games", response_model=GameList, responses=_errors(422), tags=["games"])
    def list_games(limit: Annotated[int, Query(ge=1, le=100)] = 20,
                   offset: Annotated[int, Query(ge=0, le=MAX_GAME_ID)] = 0) -> GameList:
        """Saved games, most recently played first."""
        games, total = store.recent(limit, offset)
        return GameList(games=[play.game_summary(g) for g in games], total=total)

    @app.post("/api/games/import", response_model=GameState, status_code=201,
              responses=_errors(400, 413, 422), tags=["games"])
    def import_game(req: ImportRequest) -> GameState:
        """Create a game from PGN text (its first game). Play goes on with the human as the side to
        move if the game is not over."""
        level = play.validate_level(req.level)
        first = next(iter(read_games(req.pgn)), None)
        if first is None:
            raise HTTPException(422, "no game found in the PGN text")
        if isinstance(first, PgnError):
            raise HTTPException(422, f"cannot import the PGN: {first}")
        board = first.end_board()
        result, termination = play.outcome_fields(board.outcome())
        if termination is None and first.result != "*":
            result, termination = first.result, "recorded_result"
        headers = {k: v for k, v in first.headers.items() if k not in ("Result", "FEN", "Format")}
        game = store.create(start_fen=Board(first.fen).fen(), moves=[m.uci() for m in board.move_stack],
                            human_side=play.side_name(board.turn), level=level, result=result,
                            termination=termination, headers=headers)
        return play.game_state(game, board)

    @app.get("/api/games/{game_id}", response_model=GameState, responses=_errors(404, 422), tags=["games"])
    def get_game(game_id: GameId) -> GameState:
        """A saved game: position, moves in every notation, status and result."""
        game = store.get(game_id)
        return play.game_state(game, play.replay(game.start_fen, game.moves))

    @app.post("/api/games/{game_id}/moves", response_model=PlayResponse,
              responses=_errors(400, 404, 409, 413, 422), tags=["games"])
    def play_move(game_id: GameId, req: PlayRequest) -> PlayResponse:
        """Play the human's move; the model answers unless the move ended the game."""
        game = store.get(game_id)
        if game.termination is not None:
            raise play.GameFinished(f"game {game_id} is over ({game.termination}); start a new game")
        board = play.replay(game.start_fen, game.moves)
        if board.turn != play.side_color(game.human_side):
            raise HTTPException(409, f"it is not {game.human_side}'s turn in game {game_id}")
        move = parse_move(board, req.move)
        human = play.move_record(board, move)
        board.push(move)
        reply = None
        if board.outcome() is None:
            answer, reply = player.reply(board, game.level, rng)
            board.push(answer)
        game = finish(game, board)
        return PlayResponse(move=human, reply=reply, game=play.game_state(game, board))

    @app.post("/api/games/{game_id}/undo", response_model=GameState, responses=_errors(404, 409, 422),
              tags=["games"])
    def undo(game_id: GameId) -> GameState:
        """Take back the human's last move and the model's reply to it."""
        game = store.get(game_id)
        board = play.replay(game.start_fen, game.moves)
        play.undo_moves(game, board)
        game = finish(game, board)
        return play.game_state(game, board)

    @app.post("/api/games/{game_id}/resign", response_model=GameState, responses=_errors(404, 409, 422),
              tags=["games"])
    def resign(game_id: GameId) -> GameState:
        """The human resigns; the model's side wins."""
        game = store.get(game_id)
        if game.termination is not None:
            raise play.GameFinished(f"game {game_id} is already over ({game.termination})")
        result = "0-1" if game.human_side == "red" else "1-0"
        game = store.update(game, moves=game.moves, result=result, termination="resignation")
        return play.game_state(game, play.replay(game.start_fen, game.moves))

    @app.get("/api/games/{game_id}/pgn", response_class=PlainTextResponse, tags=["games"],
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
                        **_errors(404, 422, text_route=True)})
    def export_pgn(game_id: GameId, notation: Notation = "chinese") -> PlainTextResponse:
        """The game as PGN text, moves in Chinese (default), WXF or ICCS."""
        game = store.get(game_id)
        board = play.replay(game.start_fen, game.moves)
        model_name = f"Xiangqi-GPT ({game.level})"
        headers = {"Event": f"Xiangqi-GPT game {game.id}", "Site": "xqgpt serve",
                   "Date": game.created_at.strftime("%Y.%m.%d"),
                   "Red": "Human" if game.human_side == "red" else model_name,
                   "Black": "Human" if game.human_side == "black" else model_name}
        headers.update(game.headers)
        text = write_game(Game(headers=headers, fen=game.start_fen, moves=list(board.move_stack),
                               result=game.result), notation)
        return PlainTextResponse(text, headers={
            "Content-Disposition": f'attachment; filename="xqgpt-game-{game.id}.pgn"'})

    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def main(args: argparse.Namespace) -> int:
    """``xqgpt serve``: load the model once and serve the API and the board with uvicorn."""
    import uvicorn

    from model.policy import Policy

    policy = Policy.load(args.model)
    db_url = args.db or default_db_url()
    app = create_app(policy, db_url, model_path=args.model)
    print(f"xqgpt: serving on http://{args.host}:{args.port}/  (games in {db_url})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
