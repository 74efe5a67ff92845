"""Inference: a policy that proposes moves for a board, never an illegal one.

The policy reads the game's history (``board.root()`` and ``board.move_stack``) and the current
board, masks the logits to the legal moves before the softmax, and keeps the KV caches of the
most recent games so that each new move costs one incremental step. With ``mirror_average`` it
averages the predictions for the game and for its left-right mirror image, both computed in
one batch of two rows.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import torch

from xiangqi import VOCAB_SIZE, Board, Move, index_move, move_index
from xiangqi.vocab import legal_move_indices

from .ensemble import Ensemble, load_any, with_legality
from .features import history_positions
from .network import ModelLoadError, MoveGPT, average_mirror_images, inference_options, with_mirror_images
from .sampling import sample_move
from .tokenizer import MoveTokenizer

__all__ = ["Policy", "ModelLoadError", "default_model_dir"]


def default_model_dir() -> Path:
    """The model shipped with the package."""
    return Path(__file__).resolve().parent / "default"


CACHED_GAMES = 16  # KV caches kept


def window_start(ply: int, n_positions: int) -> int:
    """First ply of the context window for predicting move ``ply``: the window holds at most
    ``n_positions`` positions and moves on in steps of half its length, so that the context of a
    position does not depend on what was asked before (and the KV cache stays valid in between)."""
    if ply + 1 <= n_positions:
        return 0
    half = n_positions // 2
    return -(-(ply + 1 - n_positions) // half) * half


class Policy:
    """A move model ready to play: ``candidates`` and ``choose`` for any legal position."""

    def __init__(self, model: MoveGPT | Ensemble, device: str = "cpu", mirror_average: bool = False) -> None:
        if model.config.tokenizer != "move":
            raise ModelLoadError("only move-token models can play (character models are for comparison)")
        self.model = model.eval()
        self.device = device
        self.mirror_average = mirror_average
        self._lock = threading.Lock()
        # The most recent games, most recent last: (root FEN, window start, moves fed, KV cache,
        # move scores after the last move). A KV cache grows in place, so an entry is taken out of
        # the list while it is extended.
        self._cache: list[tuple[str, int, list[Move], object, np.ndarray]] = []

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> Policy:
        """Load a model directory (default: the shipped model); raises :class:`ModelLoadError`.
        Its ``config.json`` may set ``"inference": {"mirror_average": true}``."""
        directory = Path(path or default_model_dir())
        model = load_any(directory, device)
        mirror = bool(inference_options(directory).get("mirror_average", False))
        return cls(model, device, mirror_average=mirror)

    def clear_cache(self) -> None:
        """Forget the KV caches of the games seen so far."""
        with self._lock:
            self._cache.clear()

    @torch.no_grad()
    def _logits(self, board: Board) -> np.ndarray:
        """Move scores [VOCAB_SIZE] for the side to move (log-probabilities up to a constant) from
        the game's history, fed incrementally on top of a cached prefix when there is one."""
        moves = list(board.move_stack)
        key = board.root().fen() if moves else board.fen()
        n = len(moves)
        start = window_start(n, self.model.config.n_positions)
        cache, fed = None, start
        for i, (c_key, c_start, c_moves, c_kv, c_scores) in enumerate(self._cache):
            if c_key != key or c_start != start or len(c_moves) > n or moves[:len(c_moves)] != c_moves:
                continue
            if len(c_moves) == n:
                self._cache.append(self._cache.pop(i))
                return c_scores
            if cache is None or len(c_moves) + 1 > fed:
                fed, cache, best = len(c_moves) + 1, c_kv, i
        if cache is not None:
            self._cache.pop(best)
        scores, kv = self._forward(board, moves, start, fed, cache)
        # Entries of earlier windows of this game are superseded.
        self._cache = [e for e in self._cache if not (e[0] == key and moves[:len(e[2])] == e[2])]
        self._cache.append((key, start, moves, kv, scores))
        del self._cache[:-CACHED_GAMES]
        return scores

    def _forward(self, board: Board, moves: list[Move], start: int, fed: int,
                 cache) -> tuple[np.ndarray, object]:
        """Feed positions ``fed``..n (position t holds the board before move t) of the window that
        begins at ply ``start``; with ``mirror_average`` the mirror image is a second row."""
        n = len(moves)
        codes, sides = history_positions(board, fed)
        tokens = [MoveTokenizer.bos if t == 0 else move_index(moves[t - 1]) for t in range(fed, n + 1)]
        x, b, s = torch.tensor([tokens]), torch.from_numpy(codes)[None], torch.from_numpy(sides)[None]
        if self.mirror_average:
            x, b, s = with_mirror_images(x, b, s)
        x, b, s = x.to(self.device), b.to(self.device), s.to(self.device)
        pos = torch.arange(fed - start, n + 1 - start, device=self.device).expand(len(x), -1)
        logits, kv = self.model(x, b, s, cache=cache, position_ids=pos, use_cache=True)
        last = logits[:, -1].float()
        scores = average_mirror_images(last) if self.mirror_average else last.log_softmax(-1)
        scores = with_legality(self.model, scores[:1], b[:1, -1], s[:1, -1])  # row 0: the game as played
        return scores[0, :VOCAB_SIZE].cpu().numpy(), kv

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

    @torch.no_grad()
    def _logits_many(self, boards: list[Board], history: int) -> np.ndarray:
        """Move scores [n, VOCAB_SIZE] of several boards in one batch, each from a window of its
        last ``history`` positions (the first one's token is the move before it, as in training),
        without KV caches: rows are padded on the right, which causal attention never reads."""
        rows = []
        history = min(history, self.model.config.n_positions)
        for board in boards:
            moves = board.move_stack
            start = max(0, len(moves) + 1 - history)
            codes, sides = history_positions(board, start)
            tokens = [MoveTokenizer.bos if t == 0 else move_index(moves[t - 1])
                      for t in range(start, len(moves) + 1)]
            rows.append((tokens, codes, sides))
        width = max(len(t) for t, _, _ in rows)
        x = torch.full((len(rows), width), MoveTokenizer.bos, dtype=torch.long)
        b = torch.zeros((len(rows), width, 90), dtype=torch.uint8)
        s = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (tokens, codes, sides) in enumerate(rows):
            x[i, :len(tokens)] = torch.tensor(tokens)
            b[i, :len(tokens)] = torch.from_numpy(codes)
            s[i, :len(tokens)] = torch.from_numpy(sides)
        last = torch.tensor([len(t) - 1 for t, _, _ in rows])
        n = len(rows)
        if self.mirror_average:
            x, b, s = with_mirror_images(x, b, s)
        pos = torch.arange(width).expand(len(x), -1)
        logits, _ = self.model(x.to(self.device), b.to(self.device), s.to(self.device),
                               position_ids=pos.to(self.device))
        at = torch.cat([last, last]) if self.mirror_average else last
        final = logits[torch.arange(len(x)), at.to(self.device)].float()
        scores = average_mirror_images(final) if self.mirror_average else final.log_softmax(-1)
        rows_at = torch.arange(n)
        b_last, s_last = b[rows_at, last].to(self.device), s[rows_at, last].to(self.device)
        scores = with_legality(self.model, scores, b_last, s_last)
        return scores[:, :VOCAB_SIZE].cpu().numpy()

    def candidates_many(self, boards: list[Board], history: int = 8) -> list[list[tuple[Move, float]]]:
        """For each board (with legal moves), every legal move with its probability, best first,
        computed in one batch from a window of the board's last ``history`` positions (see
        :meth:`_logits_many`; cheaper than :meth:`candidates`, which reads the whole game)."""
        if not boards:
            return []
        with self._lock:
            logits = self._logits_many(boards, history)
        out = []
        for board, row in zip(boards, logits, strict=True):
            legal = legal_move_indices(board)
            z = row[legal]
            p = np.exp(z - z.max())
            p /= p.sum()
            order = np.argsort(-p, kind="stable")
            out.append([(index_move(legal[i]), float(p[i])) for i in order])
        return out

    def choose(self, board: Board, temperature: float = 0.0, top_k: int | None = None,
               rng: random.Random | None = None) -> Move:
        """A legal move: the most likely at temperature 0, else sampled (from the ``top_k`` best);
        see :func:`model.sampling.sample_move`."""
        return sample_move(self, board, temperature, top_k, rng)
