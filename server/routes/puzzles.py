"""Puzzles: ``GET /api/puzzles/next`` (a puzzle near the player's rating) and ``POST
/api/puzzles/{id}/attempt`` (the solver's moves judged against the verified line; the player's and
the puzzle's Glicko-2 ratings move). The player is the ``X-Game-Secret`` that owns the player's
games (a new secret is given when the request has none). The puzzle set is
``app.state.puzzles_location`` (``xqgpt serve --puzzles``; the shipped ``data/puzzles.jsonl`` by default).

A legal move off the line fails the attempt (as on lichess) unless it mates at once; the defender's
answer to it comes from the model's search (:data:`play.levels.PUZZLE_DEFENDER_LEVEL`, in the work
queue's lane of that level), so that the board can show the refutation.
"""

from __future__ import annotations

import random
import threading
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from data.puzzles import Puzzle, load_puzzles, play_attempt
from play.levels import PUZZLE_DEFENDER_LEVEL
from xiangqi import Board

from ..db import new_secret, player_key
from ..deps import Model, Rng, Secret, Work, lane_of
from ..errors import error_responses
from ..play import side_name
from ..puzzle_store import PuzzleStore, Standing
from ..schemas import Request as StrictRequest
from ..serving import ServedModel

router = APIRouter(prefix="/api/puzzles", tags=["puzzles"])
_LOCK = threading.Lock()


class RatingOut(BaseModel):
    rating: int
    rd: int = Field(description="rating deviation: how unsure the rating still is")
    attempts: int
    solved: int


class PuzzleOut(BaseModel):
    id: str
    fen: str
    turn: str = Field(description="the solver's side")
    moves: list[str] = Field(description="the verified line (ICCS): the solver's moves and the defender's "
                             "replies")
    themes: list[str]
    source: str
    rating: RatingOut = Field(description="the puzzle's rating")
    player: RatingOut = Field(description="the player's rating")
    secret: str | None = Field(None, description="the new player secret, when the request had none")


class AttemptRequest(StrictRequest):
    moves: list[str] = Field(max_length=64, description="the solver's moves as played (ICCS), the "
                             "defender's replies left out, each legal where it is played (422 otherwise); "
                             "the attempt ends at the first move off the line")
    gave_up: bool = Field(False, description="the player asked for the solution before the end: failed")


class AttemptOut(BaseModel):
    solved: bool = Field(description="all the line's moves played, or a move off the line that mates at once")
    rated: bool = Field(description="only the player's first attempt at a puzzle moves the ratings")
    solution: list[str]
    answer: str | None = Field(None, description="the defender's reply (ICCS) to the solver's move off the "
                               "line that failed the attempt, found by the model's search; null when the "
                               "attempt ended on the line")
    player: RatingOut
    puzzle: RatingOut
    secret: str | None = None


def get_puzzle_store(request: Request) -> PuzzleStore:
    state = request.app.state
    with _LOCK:
        if getattr(state, "puzzle_store", None) is None:
            try:
                puzzles = load_puzzles(getattr(state, "puzzles_location", None))
            except (OSError, ValueError, TypeError) as e:
                raise HTTPException(503, f"no puzzles: {e}") from e
            state.puzzle_store = PuzzleStore(state.store.engine, puzzles)
        return state.puzzle_store


def _out(s: Standing) -> RatingOut:
    return RatingOut(rating=round(s.rating.rating), rd=round(s.rating.rd), attempts=s.attempts,
                     solved=s.solved)


def _find(store: PuzzleStore, puzzle_id: str) -> Puzzle:
    if puzzle_id not in store.puzzles:
        raise HTTPException(404, f"puzzle {puzzle_id} not found")
    return store.puzzles[puzzle_id]


@router.get("/next", response_model=PuzzleOut, responses=error_responses(422, 503))
def next_puzzle(request: Request, rng: Rng, secret: Secret = None) -> PuzzleOut:
    """A puzzle the player has not tried, near the player's rating."""
    store = get_puzzle_store(request)
    new = None if secret else new_secret()
    player = player_key(secret or new)
    puzzle = store.next_for(player, rng)
    return PuzzleOut(id=puzzle.id, fen=puzzle.fen, turn=side_name(Board(puzzle.fen).turn), moves=puzzle.moves,
                     themes=puzzle.themes, source=puzzle.source, rating=_out(store.puzzle(puzzle)),
                     player=_out(store.player(player)), secret=new)


@router.get("/{puzzle_id}", response_model=PuzzleOut, responses=error_responses(404, 422, 503))
def get_puzzle(request: Request, puzzle_id: Annotated[str, Path(max_length=16)],
               secret: Secret = None) -> PuzzleOut:
    """One puzzle by its id (a link to it)."""
    store = get_puzzle_store(request)
    puzzle = _find(store, puzzle_id)
    new = None if secret else new_secret()
    return PuzzleOut(id=puzzle.id, fen=puzzle.fen, turn=side_name(Board(puzzle.fen).turn), moves=puzzle.moves,
                     themes=puzzle.themes, source=puzzle.source, rating=_out(store.puzzle(puzzle)),
                     player=_out(store.player(player_key(secret or new))), secret=new)


@router.post("/{puzzle_id}/attempt", response_model=AttemptOut,
             responses=error_responses(400, 404, 413, 422, 503))
async def attempt(request: Request, puzzle_id: Annotated[str, Path(max_length=16)], req: AttemptRequest,
                  model: Model, rng: Rng, work: Work, secret: Secret = None) -> AttemptOut:
    """Judge the solver's moves: solved when they are the line's (or a move off the line mates at
    once), failed at a move off the line (with the defender's answer to it) or when given up (422
    while the attempt is neither, or for an illegal move). The player's first attempt moves both
    ratings."""
    store = await run_in_threadpool(get_puzzle_store, request)
    puzzle = _find(store, puzzle_id)
    verdict, board = play_attempt(puzzle, req.moves)
    if verdict is None and not req.gave_up:
        raise HTTPException(422, f"the attempt is not over: {len(req.moves)} of the solver's "
                            f"{puzzle.solver_moves} moves played, none wrong")
    off_line = board if verdict is False else None
    lane = lane_of(PUZZLE_DEFENDER_LEVEL) if off_line is not None else "play"
    return await work.run(lane, _attempt, store, model, rng, puzzle, bool(verdict), off_line, secret)


def _attempt(store: PuzzleStore, model: ServedModel, rng: random.Random, puzzle: Puzzle, solved: bool,
             off_line: Board | None, secret: str | None) -> AttemptOut:
    answer = model.reply(off_line, PUZZLE_DEFENDER_LEVEL, rng)[0].uci() if off_line is not None else None
    new = None if secret else new_secret()
    me, it, rated = store.attempt(player_key(secret or new), puzzle, solved)
    return AttemptOut(solved=solved, rated=rated, solution=puzzle.moves, answer=answer, player=_out(me),
                      puzzle=_out(it), secret=new)
