"""Choosing among a model's candidate moves: the most likely one, or one drawn at a temperature.

Torch-free, so that the policy, the playing levels (:mod:`play.levels`) and the server share it.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from xiangqi import Board, Move


class CandidateSource(Protocol):
    """Anything that ranks the legal moves of a position, like :meth:`model.policy.Policy.candidates`."""

    def candidates(self, board: Board, k: int | None = None,
                   temperature: float = 1.0) -> list[tuple[Move, float]]:
        """Legal moves with their probabilities at ``temperature``, best first (``k`` best)."""


def sample_move(source: CandidateSource, board: Board, temperature: float = 0.0,
                top_k: int | None = None, rng: random.Random | None = None) -> Move:
    """The most likely move at temperature 0; otherwise a move drawn in proportion to its
    probability at ``temperature`` among the ``top_k`` best (all when ``None``).

    Raises ``ValueError`` when the position has no legal move.
    """
    if temperature <= 0:
        candidates = source.candidates(board, k=1)
    else:
        candidates = source.candidates(board, k=top_k, temperature=temperature)
    if not candidates:
        raise ValueError("no legal move: the game is over")
    if temperature <= 0:
        return candidates[0][0]
    moves, weights = zip(*candidates, strict=True)
    return (rng or random.Random()).choices(moves, weights=weights)[0]


def with_temperature(candidates: list[tuple[Move, float]], temperature: float) -> list[tuple[Move, float]]:
    """Probabilities at temperature 1 rescaled to ``temperature`` (the same softmax of the logits
    divided by it), in the same order."""
    if temperature == 1.0:
        return list(candidates)
    logits = [math.log(max(p, 1e-300)) / max(temperature, 1e-6) for _, p in candidates]
    top = max(logits, default=0.0)
    weights = [math.exp(x - top) for x in logits]
    total = sum(weights)
    return [(m, w / total) for (m, _), w in zip(candidates, weights, strict=True)]
