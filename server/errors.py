"""Every error is JSON ``{"detail": "..."}``: the exception handlers, the body-size limit and the
answer to a request that is not HTTP at all.

400: the body is not JSON (or not UTF-8) or the HTTP framing is broken; 403: a move, take-back or
resignation without the game's player secret; 404: unknown game or path; 409: the game does not
allow it now; 413: body over the limit; 422: a field of the wrong type or value, a bad FEN, move,
level or PGN; 503: a model part is missing (the value net that analysis needs), or the server is
busy (with ``Retry-After``). 500 only for a bug (logged, never stored).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import h11
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from model.network import ModelLoadError
from play.levels import UnknownLevel
from xiangqi import XiangqiError
from xiangqi.engine import UciError

from .db import GameConflict, GameNotFound, NotYourGame
from .play import CannotImport, GameFinished, GameOver, NothingToUndo, NotYourTurn
from .schemas import ErrorResponse
from .work import Overloaded

log = logging.getLogger("xqgpt.server")

MAX_BODY_BYTES = 1_000_000
STATUS: dict[type[Exception], int] = {
    XiangqiError: 422, UnknownLevel: 422, GameOver: 422, CannotImport: 422,
    NotYourGame: 403,
    GameNotFound: 404,
    GameConflict: 409, GameFinished: 409, NothingToUndo: 409, NotYourTurn: 409,
    ModelLoadError: 503,
    UciError: 503,  # the analysis engine (xqgpt serve --analysis-engine) failed
}


def error_responses(*codes: int, text_route: bool = False) -> dict[int | str, dict[str, Any]]:
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


def _unreadable_body(exc: RequestValidationError) -> str | None:
    """The reason a body could not be read as JSON at all, or ``None`` if it was read."""
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = err.get("ctx", {}).get("error", "")
            return f"the request body is not valid JSON{': ' + reason if reason else ''}"
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes JSON ``{"detail": "..."}`` with a 4xx code (500 only for real bugs)."""

    def handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def respond(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status)
        return respond

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return JSONResponse({"detail": unreadable}, 400)
        return JSONResponse({"detail": _validation_message(exc)}, 422)

    async def overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 503, headers={"Retry-After": str(exc.retry_after)})

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, 500)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for exc_type, status in STATUS.items():
        app.add_exception_handler(exc_type, handler(status))
    app.add_exception_handler(Overloaded, overloaded)
    app.add_exception_handler(Exception, unexpected)


class JsonErrorsH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering a request it cannot parse (broken framing, a bad
    request line or header) with the API's JSON error instead of plain text."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"detail": f"bad HTTP request: {msg}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()
