"""Model serving: the model behind the API, its moves at a level, and the search of each game.

One :class:`ServedModel` per server process holds the policy (thread-safe; concurrent requests
share its forward passes after :meth:`~model.policy.Policy.batch_calls`) and, at the levels that
search, one :class:`~play.search.Search` per game over networks shared by all games
(:class:`~play.search.Networks`): the searches of concurrent games run side by side, their leaf
evaluations batched together, and each game's tree carries over between its moves. The searches
of the :data:`SEARCHED_GAMES` games searched last are kept.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from model.sampling import sample_move, with_temperature
from play.levels import THINKING_MS, choose_move
from play.search import Networks, Search, value_net_for
from xiangqi import Board, Move
from xiangqi.notation import to_chinese, to_wxf

from .play import GameOver, move_record, outcome_fields, status_of, winner_of
from .schemas import Candidate, ModelReply, MoveResponse

if TYPE_CHECKING:
    from model.policy import Policy

N_CANDIDATES = 5
SEARCHED_GAMES = 32  # games whose search tree is kept (a tree of a few thousand playouts: a few MB)
log = logging.getLogger(__name__)


class Snapshot:
    """The model's move distribution in one position, computed once and then reused.

    It answers ``candidates(board, k, temperature)`` like the live policy, so
    :func:`play.levels.choose_move` and the candidate list of a reply cost one model call together.
    """

    def __init__(self, policy: Policy, board: Board) -> None:
        self.moves = policy.candidates(board)

    def candidates(self, board: Board, k: int | None = None,
                   temperature: float = 1.0) -> list[tuple[Move, float]]:
        return with_temperature(self.moves, temperature)[:k]


def _candidates(snapshot: Snapshot, board: Board) -> list[Candidate]:
    return [Candidate(move=m.uci(), wxf=to_wxf(board, m), chinese=to_chinese(board, m), p=round(p, 4))
            for m, p in snapshot.candidates(board, k=N_CANDIDATES)]


class ServedModel:
    """The model behind the API: one shared, thread-safe policy, where it was loaded from
    (``source``, its directory ``model_dir``; ``None``: the shipped model) and the games' searches."""

    def __init__(self, policy: Policy, source: str, model_dir: str | None = None,
                 searched_games: int = SEARCHED_GAMES) -> None:
        self.policy = policy
        self.source = source
        self.model_dir = model_dir
        self.searched_games = searched_games
        self._networks: Networks | None = None
        self._searches: OrderedDict[int | str, Search] = OrderedDict()
        self._lock = threading.Lock()

    def networks(self) -> Networks:
        """The networks of every game's search: the policy and the model's value net
        (:func:`~play.search.value_net_for`), loaded on first use; raises
        :class:`~model.network.ModelLoadError` when the value net cannot be loaded."""
        with self._lock:
            if self._networks is None:
                value, note = value_net_for(self.model_dir)
                if note:
                    log.warning("%s", note)
                self._networks = Networks(self.policy, value, batch_values=True)
            return self._networks

    def search(self, game_id: int | str | None) -> Search:
        """The search of game ``game_id``, kept for its next move (a fresh one for ``None``, a game
        not stored yet)."""
        networks = self.networks()
        if game_id is None:
            return Search(networks)
        with self._lock:
            search = self._searches.pop(game_id, None) or Search(networks)
            self._searches[game_id] = search
            while len(self._searches) > self.searched_games:
                self._searches.popitem(last=False)
        return search

    def reply(self, board: Board, level: str, rng: random.Random,
              game_id: int | str | None = None) -> tuple[Move, ModelReply]:
        """Choose the model's move at ``level`` in game ``game_id`` (the board is left unchanged);
        a level that searches searches in the game's own search."""
        snapshot = Snapshot(self.policy, board)
        search = self.search(game_id) if level in THINKING_MS else None
        move = choose_move(snapshot, board, level, rng=rng, search=search)
        return move, ModelReply(move=move.uci(), wxf=to_wxf(board, move), chinese=to_chinese(board, move),
                                candidates=_candidates(snapshot, board))

    def move(self, board: Board, temperature: float, top_k: int | None,
             rng: random.Random) -> MoveResponse:
        """The model's move at ``temperature`` (0: the most likely) among its ``top_k`` best moves,
        and the position after it; :class:`~server.play.GameOver` when the game is already over."""
        over = board.outcome()
        if over is not None:
            raise GameOver(f"the game is already over ({over.termination.value}): no move to make")
        snapshot = Snapshot(self.policy, board)
        move = sample_move(snapshot, board, temperature, top_k, rng)
        record = move_record(board, move)
        candidates = _candidates(snapshot, board)
        board.push(move)
        result, termination = outcome_fields(board.outcome())
        return MoveResponse(move=record.iccs, wxf=record.wxf, chinese=record.chinese, candidates=candidates,
                            fen=board.fen(), status=status_of(termination), result=result,
                            termination=termination, winner=winner_of(result))
