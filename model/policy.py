"""Inference: a policy that proposes moves for a board, never an illegal one.

The policy reads the game's history (``board.root()`` and ``board.move_stack``) and the current
board, masks the logits to the legal moves before the softmax, and keeps the KV cache of the
last game it saw so that each new move costs one incremental step.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import torch

from xiangqi import VOCAB_SIZE, Board, Move, index_move
from xiangqi.vocab import legal_move_indices

from .features import history_positions
from .network import ModelLoadError, MoveGPT, load_model
from .tokenizer import MoveTokenizer

__all__ = ["Policy", "ModelLoadError", "default_model_dir"]


def default_model_dir() -> Path:
    """The model shipped with the package."""
    return Path(__file__).resolve().parent / "default"


class Policy:
    """A move model ready to play: ``candidates`` and ``choose`` for any legal position."""

    def __init__(self, model: MoveGPT, device: str = "cpu") -> None:
        if model.config.tokenizer != "move":
            raise ModelLoadError("only move-token models can play (character models are for comparison)")
        self.model = model.eval()
        self.device = device
        self._lock = threading.Lock()
        # KV cache of the last sequence: (root FEN, window start, moves fed, cache).
        self._cache: tuple[str, int, list[Move], object] | None = None

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> Policy:
        """Load a model directory (default: the shipped model); raises :class:`ModelLoadError`."""
        return cls(load_model(path or default_model_dir(), device), device)

    @torch.no_grad()
    def _logits(self, board: Board) -> np.ndarray:
        """Move logits [VOCAB_SIZE] for the side to move, from the game's history."""
        moves = list(board.move_stack)
        n = len(moves)
        root_fen = board.root().fen() if n else board.fen()
        P = self.model.config.n_positions
        start, fed, cache = 0, 0, None
        if self._cache is not None:
            c_fen, c_start, c_moves, c_kv = self._cache
            if (c_fen == root_fen and len(c_moves) <= n and moves[:len(c_moves)] == c_moves
                    and n - c_start + 1 <= P and len(c_moves) >= c_start):
                start, fed, cache = c_start, len(c_moves) + 1, c_kv
        if cache is None:
            start = 0 if n + 1 <= P else n + 1 - P // 2
            fed = start
        # Feed positions fed..n (position t holds the board before move t).
        codes, sides = history_positions(board, fed)
        tokens = [MoveTokenizer.bos if t == start else MoveTokenizer().encode([moves[t - 1]])[0]
                  for t in range(fed, n + 1)]
        x = torch.tensor([tokens], device=self.device)
        b = torch.from_numpy(codes).unsqueeze(0).to(self.device)
        s = torch.from_numpy(sides).unsqueeze(0).to(self.device)
        pos = torch.arange(fed - start, n + 1 - start, device=self.device).unsqueeze(0)
        logits, kv = self.model(x, b, s, past_key_values=cache, position_ids=pos, use_cache=True)
        self._cache = (root_fen, start, moves, kv)
        return logits[0, -1, :VOCAB_SIZE].float().cpu().numpy()

    def candidates(self, board: Board, k: int | None = None,
                   temperature: float = 1.0) -> list[tuple[Move, float]]:
        """Legal moves with their probabilities, best first (``k`` best when given)."""
        legal = legal_move_indices(board)
        if not legal:
            return []
        with self._lock:
            logits = self._logits(board)
        z = logits[legal] / max(temperature, 1e-6)
        p = np.exp(z - z.max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")[:k]
        return [(index_move(legal[i]), float(p[i])) for i in order]

    def choose(self, board: Board, temperature: float = 0.0, top_k: int | None = None,
               rng: random.Random | None = None) -> Move:
        """A legal move: the most likely at temperature 0, else sampled (from the ``top_k`` best)."""
        if temperature <= 0:
            cands = self.candidates(board, k=1)
        else:
            cands = self.candidates(board, k=top_k, temperature=temperature)
        if not cands:
            raise ValueError("no legal move: the game is over")
        if temperature <= 0 or len(cands) == 1:
            return cands[0][0]
        rng = rng or random.Random()
        moves, weights = zip(*cands, strict=True)
        return rng.choices(moves, weights=weights, k=1)[0]
