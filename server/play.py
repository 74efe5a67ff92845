"""Game logic between the HTTP layer and the rules engine / model: replay, notation, outcomes."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from play.levels import DEFAULT_LEVEL, LEVELS, choose_move
from xiangqi import BLACK, RED, Board, Color, Move, Outcome
from xiangqi.notation import to_chinese, to_wxf

from .db import GameRecord
from .schemas import Candidate, GameState, GameSummary, ModelReply, MoveRecord

if TYPE_CHECKING:
    from model.policy import Policy

N_CANDIDATES = 5
SIDES: dict[Color, str] = {RED: "red", BLACK: "black"}


class UnknownLevel(ValueError):
    """A level name that play.levels does not define."""


class GameFinished(RuntimeError):
    """A move or resignation on a game that is over."""


class NothingToUndo(RuntimeError):
    """Undo with no move of the human's to take back."""


def side_name(color: Color) -> str:
    return SIDES[color]


def side_color(name: str) -> Color:
    return RED if name == "red" else BLACK


def replay(start_fen: str, moves: list[str]) -> Board:
    """The board after ``moves`` (ICCS) from ``start_fen``; raises XiangqiError on a bad move."""
    board = Board(start_fen)
    for text in moves:
        board.push(Move.from_uci(text))
    return board


def outcome_fields(outcome: Outcome | None) -> tuple[str, str | None]:
    """(result, termination) of an outcome; ("*", None) while the game goes on."""
    if outcome is None:
        return "*", None
    return outcome.result(), outcome.termination.value


def winner_of(result: str) -> str | None:
    return {"1-0": "red", "0-1": "black"}.get(result)


def move_record(board: Board, move: Move) -> MoveRecord:
    """Describe ``move``, legal on ``board`` (which is left unchanged)."""
    return MoveRecord(ply=len(board.move_stack), side=side_name(board.turn), iccs=move.uci(),
                      wxf=to_wxf(board, move), chinese=to_chinese(board, move))


def validate_level(level: str | None) -> str:
    """The level name, or the default; raises UnknownLevel for an unknown one."""
    if level is None:
        return DEFAULT_LEVEL
    if level not in LEVELS:
        raise UnknownLevel(f"unknown level {level!r}; choose one of: {', '.join(LEVELS)}")
    return level


class Snapshot:
    """The model's move distribution in one position, computed once and then reused.

    It answers ``candidates(board, k, temperature)`` like the live policy (probabilities at
    another temperature are the same softmax, rescaled), so :func:`play.levels.choose_move` and
    the candidate list of a reply cost one model call together.
    """

    def __init__(self, policy: Policy, board: Board) -> None:
        self.moves = policy.candidates(board)

    def candidates(self, board: Board, k: int | None = None,
                   temperature: float = 1.0) -> list[tuple[Move, float]]:
        if temperature == 1.0:
            return self.moves[:k]
        logits = [math.log(max(p, 1e-300)) / max(temperature, 1e-6) for _, p in self.moves]
        top = max(logits, default=0.0)
        weights = [math.exp(x - top) for x in logits]
        total = sum(weights)
        return [(m, w / total) for (m, _), w in zip(self.moves, weights, strict=True)][:k]


def _candidates(snapshot: Snapshot, board: Board) -> list[Candidate]:
    return [Candidate(move=m.uci(), wxf=to_wxf(board, m), chinese=to_chinese(board, m), p=round(p, 4))
            for m, p in snapshot.candidates(board, k=N_CANDIDATES)]


@dataclass
class Player:
    """The model behind the API: one shared, thread-safe policy."""

    policy: Policy
    source: str

    def reply(self, board: Board, level: str, rng: random.Random) -> tuple[Move, ModelReply]:
        """Choose the model's move at ``level`` (the board is left unchanged)."""
        snapshot = Snapshot(self.policy, board)
        move = choose_move(snapshot, board, level, rng=rng)
        return move, ModelReply(move=move.uci(), wxf=to_wxf(board, move), chinese=to_chinese(board, move),
                                candidates=_candidates(snapshot, board))

    def sample(self, board: Board, temperature: float, top_k: int | None,
               rng: random.Random) -> tuple[Move, list[Candidate]]:
        """The model's move at ``temperature`` (0: the most likely) among its ``top_k`` best moves."""
        snapshot = Snapshot(self.policy, board)
        if temperature <= 0:
            move = snapshot.moves[0][0]
        else:
            cands = snapshot.candidates(board, k=top_k, temperature=temperature)
            move = rng.choices([m for m, _ in cands], weights=[p for _, p in cands])[0]
        return move, _candidates(snapshot, board)


def game_state(game: GameRecord, board: Board) -> GameState:
    """The API view of a stored game whose moves have been replayed on ``board``."""
    records = []
    walk = board.root()
    for move in board.move_stack:
        records.append(move_record(walk, move))
        walk.push(move)
    finished = game.termination is not None
    outcome = board.outcome() if finished else None
    by_rule = outcome is not None and outcome.termination.value == game.termination
    ending = outcome.describe() if by_rule else None  # e.g. who chased what
    return GameState(
        id=game.id, created_at=game.created_at, updated_at=game.updated_at,
        human_side=game.human_side, level=game.level, start_fen=game.start_fen, fen=board.fen(),
        turn=side_name(board.turn), in_check=board.is_check(), moves=records,
        legal_moves=[] if finished else [m.uci() for m in board.legal_moves],
        status="finished" if finished else "playing", result=game.result,
        termination=game.termination, winner=winner_of(game.result), headers=game.headers, ending=ending)


def game_summary(game: GameRecord) -> GameSummary:
    title = game.headers.get("Event") or f"Game {game.id}"
    return GameSummary(id=game.id, created_at=game.created_at, updated_at=game.updated_at,
                       human_side=game.human_side, level=game.level, plies=len(game.moves),
                       status="finished" if game.termination else "playing", result=game.result,
                       termination=game.termination, title=title)


def undo_moves(game: GameRecord, board: Board) -> None:
    """Pop the human's last move and the model's reply after it (if any) from ``board``."""
    if game.termination == "resignation":
        raise GameFinished(f"game {game.id} is over (resignation); start a new game")
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
