"""Players for the arena: the model at a level, random, greedy and any UCI engine.

A player spec is text: ``model[:level]`` (optionally ``model:level@DIR`` for another model
directory),
``model:search?nodes=N|movetime=MS|depth=N[&value=DIR][&leaves=light|full][&margin=X][&exchange=X][&tactics=N][@DIR]``
(the tree search of :mod:`play.search` with that budget a move, e.g. ``model:search?nodes=800``;
``margin``, ``exchange``, ``tactics`` and ``mates`` set :class:`~play.search.SearchConfig`'s
``safe_margin``, ``exchange``, ``tactics_plies`` and ``mate_moves``; ``movetime`` is in
milliseconds; ``depth`` is the playouts' mean depth, :attr:`~play.search.Limits.mean_depth`),
``random``, ``greedy`` or ``uci:COMMAND[?Option=value&...]``.
"""

from __future__ import annotations

import functools
import random
import sys
from typing import TYPE_CHECKING, Protocol

from xiangqi import Board, Move
from xiangqi.engine import EngineSpec, UciClient

from .levels import DEFAULT_LEVEL, THINKING_MS, UnknownLevel, check_level, choose_move
from .material import PIECE_VALUES
from .search import Limits, Networks, Search, SearchConfig, value_net_for

if TYPE_CHECKING:
    from model.policy import Policy


class Player(Protocol):
    """Anything that picks a move in a position with legal moves."""

    name: str

    def new_game(self, seed: int) -> None:
        """Get ready for a new game; ``seed`` makes random choices reproducible."""

    def choose(self, board: Board) -> Move:
        """The move to play."""

    def close(self) -> None:
        """Free what the player holds (engine processes)."""


class RandomPlayer:
    """Plays a uniformly random legal move."""

    name = "random"

    def __init__(self) -> None:
        self.rng = random.Random(0)

    def new_game(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, board: Board) -> Move:
        return self.rng.choice(board.legal_moves)

    def close(self) -> None:
        pass


def _capture_value(board: Board, move: Move) -> float:
    piece = board.piece_at(move.to_square)
    return PIECE_VALUES[piece.piece_type] if piece else 0.0


class GreedyPlayer(RandomPlayer):
    """One ply of material: takes the most valuable capture; else a random move that leaves the
    opponent the least valuable capture (no hanging pieces when it can help it)."""

    name = "greedy"

    def choose(self, board: Board) -> Move:
        moves = board.legal_moves
        best = max(_capture_value(board, m) for m in moves)
        if best > 0:
            return self.rng.choice([m for m in moves if _capture_value(board, m) == best])
        exposure = {}
        for m in moves:
            board.push(m)
            exposure[m] = max((_capture_value(board, r) for r in board.legal_moves), default=0.0)
            board.pop()
        least = min(exposure.values())
        return self.rng.choice([m for m in moves if exposure[m] == least])


@functools.cache
def load_policy(model_dir: str | None) -> Policy:
    """The model of a directory, loaded once per process (two levels in a match share it)."""
    from model.policy import Policy

    return Policy.load(model_dir)


@functools.cache
def load_networks(model_dir: str | None, value_dir: str | None = None) -> Networks:
    """The search's networks over the model of a directory and its value net
    (:func:`~play.search.value_net_for`, its note on stderr), loaded once per process: the players
    of a match share them, each with its own search."""
    value, note = value_net_for(model_dir, value_dir)
    if note:
        print(f"arena: {note}", file=sys.stderr)
    return Networks(load_policy(model_dir), value)


class ModelPlayer:
    """The GPT-2 model at a playing level (see :mod:`play.levels`); at a level that searches, with
    its own search, whose tree is kept between the moves of a game."""

    def __init__(self, level: str = DEFAULT_LEVEL, model_dir: str | None = None) -> None:
        self.level = check_level(level)
        self.name = f"model:{level}"
        self.policy = load_policy(model_dir)
        self.search = Search(load_networks(model_dir)) if self.level in THINKING_MS else None
        self.rng = random.Random(0)

    def new_game(self, seed: int) -> None:
        self.rng = random.Random(seed)
        if self.search is not None:
            self.search.clear()

    def choose(self, board: Board) -> Move:
        return choose_move(self.policy, board, self.level, self.rng, self.search)

    def close(self) -> None:
        pass


SEARCH_KEYS = ("nodes", "movetime", "depth", "value", "leaves", "margin", "exchange", "tactics", "mates")
BUDGET_KEYS = ("nodes", "movetime", "depth")
WEIGHT_KEYS = ("margin", "exchange")


def search_options(query: str) -> dict[str, str]:
    """The options of ``model:search?QUERY``; raises ``ValueError`` for unknown keys or bad
    numbers, or when no budget (nodes, movetime or depth) is given."""
    options = {}
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        if key not in SEARCH_KEYS or not eq or not value:
            raise ValueError(f"bad search option {item!r}: use {'=..., '.join(SEARCH_KEYS)}=...")
        if key in BUDGET_KEYS and not (value.isdigit() and int(value) > 0):
            raise ValueError(f"search option {key} must be a positive integer, not {value!r}")
        if key in WEIGHT_KEYS and not _non_negative_number(value):
            raise ValueError(f"search option {key} must be a number >= 0, not {value!r}")
        if key in ("tactics", "mates") and not value.isdigit():
            raise ValueError(f"search option {key} must be an integer >= 0, not {value!r}")
        if key == "leaves" and value not in ("light", "full"):
            raise ValueError(f"search option leaves must be light or full, not {value!r}")
        options[key] = value
    if not {"nodes", "movetime", "depth"} & options.keys():
        raise ValueError("model:search needs a budget: ?nodes=N, ?movetime=MS or ?depth=N")
    return options


def _non_negative_number(text: str) -> bool:
    try:
        return 0 <= float(text) < float("inf")
    except ValueError:
        return False


class SearchPlayer:
    """The tree search (:mod:`play.search`) over the model and the value net with a fixed budget
    a move; its tree is kept between the moves of a game."""

    def __init__(self, query: str, model_dir: str | None = None) -> None:
        options = search_options(query)
        self.name = f"model:search?{query}"
        self.limits = Limits(nodes=int(options["nodes"]) if "nodes" in options else None,
                             movetime=int(options["movetime"]) if "movetime" in options else None,
                             mean_depth=int(options["depth"]) if "depth" in options else None)
        config = SearchConfig(light_leaves=options.get("leaves", "light") == "light")
        for key, field in (("margin", "safe_margin"), ("exchange", "exchange")):
            if key in options:
                setattr(config, field, float(options[key]))
        for key, field in (("tactics", "tactics_plies"), ("mates", "mate_moves")):
            if key in options:
                setattr(config, field, int(options[key]))
        self.search = Search(load_networks(model_dir, options.get("value")), config)

    def new_game(self, seed: int) -> None:
        self.search.clear()

    def choose(self, board: Board) -> Move:
        return self.search.run(board, self.limits).best

    def close(self) -> None:
        pass


class UciPlayer:
    """An external engine driven over UCI; started on the first game."""

    def __init__(self, spec: str, movetime: int = 100) -> None:
        self.client = UciClient(EngineSpec.parse(spec), movetime=movetime)
        self.name = f"uci:{spec}"
        self._started = False

    def new_game(self, seed: int) -> None:
        if not self._started:
            self.client.start()
            self._started = True
        self.client.new_game()

    def choose(self, board: Board) -> Move:
        return self.client.bestmove(board)

    def close(self) -> None:
        self.client.close()


def check_spec(spec: str) -> None:
    """Raise ``ValueError`` for a player spec that cannot name a player (nothing is started)."""
    kind, _, rest = spec.partition(":")
    if kind in ("random", "greedy") and not rest:
        return
    if kind == "model":
        level, _, query = rest.partition("@")[0].partition("?")
        if level == "search":
            try:
                search_options(query)
            except ValueError as e:
                raise ValueError(f"{e} (in {spec!r})") from None
            return
        try:
            check_level(level or None)
        except UnknownLevel as e:
            raise UnknownLevel(f"{e} (in {spec!r})") from None
        return
    if kind == "uci":
        EngineSpec.parse(rest)
        return
    raise ValueError(f"unknown player {spec!r}: use model[:level], model:search?nodes=N, random, greedy or "
                     "uci:PATH")


def make_player(spec: str, movetime: int = 100) -> Player:
    """Build a player from its spec (see the module docstring)."""
    check_spec(spec)
    kind, _, rest = spec.partition(":")
    if kind == "random":
        return RandomPlayer()
    if kind == "greedy":
        return GreedyPlayer()
    if kind == "model":
        level, _, model_dir = rest.partition("@")
        if level.partition("?")[0] == "search":
            return SearchPlayer(level.partition("?")[2], model_dir or None)
        return ModelPlayer(level or DEFAULT_LEVEL, model_dir or None)
    return UciPlayer(rest, movetime=movetime)
