"""Inference: a policy that proposes moves for a board, never an illegal one.

The policy reads the game's history (``board.root()`` and ``board.move_stack``) and the current
board, masks the logits to the legal moves before the softmax, and keeps the KV caches of the
most recent games so that each new move costs one incremental step. With ``mirror_average`` it
averages the predictions for the game and for its left-right mirror image, both computed in
one batch of two rows. After :meth:`Policy.batch_calls`, the calls of concurrent threads (games
served at once, a search's leaves) share forward passes: each game's rows go on top of its own
KV cache, the caches padded to one batch.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import DynamicCache

from xiangqi import VOCAB_SIZE, Board, Move, index_move, move_index
from xiangqi.vocab import legal_move_indices

from .batching import Batcher
from .ensemble import Ensemble, load_any, with_legality
from .features import history_positions
from .network import ModelLoadError, MoveGPT, average_mirror_images, inference_options, with_mirror_images
from .sampling import sample_move
from .tokenizer import MoveTokenizer

__all__ = ["Policy", "ModelLoadError", "default_model_dir"]


def default_model_dir() -> Path:
    """The model shipped with the package."""
    return Path(__file__).resolve().parent / "default"


CACHED_GAMES = 64  # KV caches kept (about 8 MB a game of 60 plies for the shipped ensemble)
# Feeds of one forward pass have at most this many new positions, or all more: a game fed from
# scratch (up to a whole window) never pads the one-step feeds of the games with warm caches.
SHORT_FEED = 8


def window_start(ply: int, n_positions: int) -> int:
    """First ply of the context window for predicting move ``ply``: the window holds at most
    ``n_positions`` positions and moves on in steps of half its length, so that the context of a
    position does not depend on what was asked before (and the KV cache stays valid in between)."""
    if ply + 1 <= n_positions:
        return 0
    half = n_positions // 2
    return -(-(ply + 1 - n_positions) // half) * half


@dataclass
class _Feed:
    """One sequence of a forward pass: new positions on top of an optional KV cache."""

    tokens: torch.Tensor  # [rows, k]: one row, two with the mirror image
    boards: torch.Tensor  # [rows, k, 90]
    sides: torch.Tensor  # [rows, k]
    positions: torch.Tensor  # [k] position ids
    cache: list | None  # per ensemble member, per layer: (keys, values) [rows, heads, length, dim]
    game: tuple[str, int, list[Move]] | None  # (root FEN, window start, moves) to cache, if any


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
        self._cache: list[tuple[str, int, list[Move], list, np.ndarray]] = []
        self._batcher: Batcher | None = None

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> Policy:
        """Load a model directory (default: the shipped model); raises :class:`ModelLoadError`.
        Its ``config.json`` may set ``"inference": {"mirror_average": true}``."""
        directory = Path(path or default_model_dir())
        model = load_any(directory, device)
        mirror = bool(inference_options(directory).get("mirror_average", False))
        return cls(model, device, mirror_average=mirror)

    from_pretrained = load  # the Hugging Face name

    def clear_cache(self) -> None:
        """Forget the KV caches of the games seen so far."""
        with self._lock:
            self._cache.clear()

    def batch_calls(self, max_batch: int = 64, max_wait: float = 0.002) -> None:
        """From now on, compute the scores that concurrent threads ask for in shared forward passes
        (see :mod:`model.batching`): up to ``max_batch`` positions a pass, a lone call waiting at
        most ``max_wait`` seconds for company."""
        if self._batcher is None:
            self._batcher = Batcher(self._scores, max_batch, max_wait)

    def light(self) -> Policy:
        """The same weights answering at a fraction of the cost, for a search's many leaves: the
        first ensemble member alone, without the legality net and the mirror image (a pass costs
        about a quarter; bench/README.md, "Search"). It batches its calls when this policy does."""
        model = self.model.members[0] if isinstance(self.model, Ensemble) else self.model
        light = Policy(model, self.device, mirror_average=False)
        if self._batcher is not None:
            light.batch_calls(self._batcher.max_batch, self._batcher.max_wait)
        return light

    def _score(self, requests: list[tuple[Board, int | None]]) -> list[np.ndarray]:
        return self._batcher.submit(requests) if self._batcher else self._scores(requests)

    def _scores(self, requests: list[tuple[Board, int | None]]) -> list[np.ndarray]:
        """Move scores [VOCAB_SIZE] (log-probabilities up to a constant) for each (board, history)
        request, in one forward pass (two when some feeds are long, see ``SHORT_FEED``). History
        ``None``: from the whole game, fed incrementally on top of the game's KV cache when there
        is one; a number: from a window of the board's last ``history`` positions (the first
        one's token is the move before it, as in training)."""
        with self._lock:
            out: list[np.ndarray | None] = [None] * len(requests)
            feeds, fed = [], []
            for i, (board, history) in enumerate(requests):
                feed = self._game_feed(board) if history is None else self._window_feed(board, history)
                if isinstance(feed, np.ndarray):  # scores already cached
                    out[i] = feed
                else:
                    feeds.append(feed)
                    fed.append(i)
            for short in (True, False):
                group = [j for j, f in enumerate(feeds) if (f.tokens.shape[1] <= SHORT_FEED) == short]
                if not group:
                    continue
                scores, caches = self._forward([feeds[j] for j in group])
                for row, j in enumerate(group):
                    out[fed[j]] = scores[row]
                    if feeds[j].game is not None:
                        self._remember(feeds[j].game, scores[row], caches[row])
            return out

    def _game_feed(self, board: Board) -> _Feed | np.ndarray:
        """What to feed for ``board``'s game on top of its longest cached prefix, or the cached
        scores when the game is cached up to this position. The cache entry used is taken out."""
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
        return self._feed(board, fed, start, cache, game=(key, start, moves))

    def _window_feed(self, board: Board, history: int) -> _Feed:
        first = max(0, len(board.move_stack) + 1 - min(history, self.model.config.n_positions))
        return self._feed(board, first, first, None, game=None)

    def _feed(self, board: Board, first: int, start: int, cache: list | None,
              game: tuple[str, int, list[Move]] | None) -> _Feed:
        """Positions ``first``..n of ``board``'s game (position t holds the board before move t),
        numbered from the window start ``start``; with ``mirror_average`` the mirror image is a
        second row."""
        moves = board.move_stack
        codes, sides = history_positions(board, first)
        tokens = [MoveTokenizer.bos if t == 0 else move_index(moves[t - 1])
                  for t in range(first, len(moves) + 1)]
        x, b, s = torch.tensor([tokens]), torch.from_numpy(codes)[None], torch.from_numpy(sides)[None]
        if self.mirror_average:
            x, b, s = with_mirror_images(x, b, s)
        return _Feed(x, b, s, torch.arange(first - start, len(moves) + 1 - start), cache, game)

    def _remember(self, game: tuple[str, int, list[Move]], scores: np.ndarray, kv: list) -> None:
        key, start, moves = game
        # Entries of earlier windows of this game are superseded.
        self._cache = [e for e in self._cache if not (e[0] == key and moves[:len(e[2])] == e[2])]
        self._cache.append((key, start, moves, kv, scores))
        del self._cache[:-CACHED_GAMES]

    @torch.no_grad()
    def _forward(self, feeds: list[_Feed]) -> tuple[np.ndarray, list[list]]:
        """Scores [len(feeds), VOCAB_SIZE] and the new KV cache of each feed, in one forward pass.

        Rows are aligned on the right: a shorter cache, or fewer new positions, is padded on the
        left, and an attention mask hides the padding (a padding position sees only itself)."""
        n_rows, k = len(feeds[0].tokens), max(f.tokens.shape[1] for f in feeds)
        lengths = [0 if f.cache is None else f.cache[0][0][0].shape[2] for f in feeds]
        n, width = len(feeds), max(lengths)
        x = torch.full((n, n_rows, k), MoveTokenizer.bos, dtype=torch.long)
        b = torch.zeros((n, n_rows, k, 90), dtype=torch.uint8)
        s = torch.zeros((n, n_rows, k), dtype=torch.long)
        pos = torch.zeros((n, k), dtype=torch.long)
        real = torch.ones((n, width + k), dtype=torch.bool)
        for i, f in enumerate(feeds):
            new = f.tokens.shape[1]
            x[i, :, k - new:], b[i, :, k - new:], s[i, :, k - new:] = f.tokens, f.boards, f.sides
            pos[i, k - new:] = f.positions
            real[i, :width - lengths[i]] = False
            real[i, width:width + k - new] = False
        cache = self._batched_cache(feeds, lengths, width) if width else None
        mask = None
        if not real.all():
            causal = torch.ones((k, width + k), dtype=torch.bool).tril(width)
            itself = torch.zeros((k, width + k), dtype=torch.bool)
            itself[:, width:] = torch.eye(k, dtype=torch.bool)
            seen = (real[:, None, :] & causal) | itself
            mask = torch.zeros(seen.shape).masked_fill(~seen, torch.finfo(torch.float32).min)
            mask = mask.repeat_interleave(n_rows, 0)[:, None].to(self.device)
        logits, kv = self.model(x.flatten(0, 1).to(self.device), b.flatten(0, 1).to(self.device),
                                s.flatten(0, 1).to(self.device), cache=cache,
                                position_ids=pos.repeat_interleave(n_rows, 0).to(self.device),
                                attention_mask=mask, use_cache=True)
        last = logits[:, -1].float().reshape(n, n_rows, -1)
        if self.mirror_average:
            scores = average_mirror_images(torch.cat([last[:, 0], last[:, 1]]))
        else:
            scores = last[:, 0].log_softmax(-1)
        scores = with_legality(self.model, scores, b[:, 0, -1].to(self.device), s[:, 0, -1].to(self.device))
        members = kv if isinstance(kv, list) else [kv]
        caches = []
        for i, f in enumerate(feeds):
            if f.game is None:
                caches.append([])
                continue
            keep = real[i].nonzero()[:, 0].to(self.device)
            rows = slice(i * n_rows, (i + 1) * n_rows)
            caches.append([[(layer.keys[rows][:, :, keep], layer.values[rows][:, :, keep])
                            for layer in member.layers] for member in members])
        return scores[:, :VOCAB_SIZE].cpu().numpy(), caches

    def _batched_cache(self, feeds: list[_Feed], lengths: list[int], width: int):
        """The feeds' KV caches as one cache (one per ensemble member), padded on the left."""
        template = next(f.cache for f in feeds if f.cache is not None)
        members = []
        for m, layers in enumerate(template):
            batched = []
            for j, (keys, _) in enumerate(layers):
                rows, heads, _, dim = keys.shape
                kv = [keys.new_zeros((len(feeds) * rows, heads, width, dim)) for _ in range(2)]
                for i, f in enumerate(feeds):
                    if f.cache is not None:
                        for t in range(2):
                            kv[t][i * rows:(i + 1) * rows, :, width - lengths[i]:] = f.cache[m][j][t]
                batched.append(tuple(kv))
            members.append(DynamicCache(ddp_cache_data=batched))
        return members if isinstance(self.model, Ensemble) else members[0]

    def candidates(self, board: Board, k: int | None = None,
                   temperature: float = 1.0) -> list[tuple[Move, float]]:
        """Legal moves with their probabilities, best first (``k`` best when given)."""
        legal = legal_move_indices(board)
        if not legal:
            return []
        logits = self._score([(board, None)])[0]
        z = logits[legal] / max(temperature, 1e-6)
        p = np.exp(z - z.max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")[:k]
        return [(index_move(legal[i]), float(p[i])) for i in order]

    def candidates_many(self, boards: list[Board], history: int = 8) -> list[list[tuple[Move, float]]]:
        """For each board (with legal moves), every legal move with its probability, best first,
        computed in one batch from a window of the board's last ``history`` positions (see
        :meth:`_scores`; cheaper than :meth:`candidates`, which reads the whole game)."""
        out = []
        for board, row in zip(boards, self._score([(b, history) for b in boards]), strict=True):
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
