"""A small network that learns the rules: which moves of the vocabulary are legal in a position.

:class:`LegalityNet` reads only the board (one-hot pieces and the side to move) and gives one
logit per vocabulary move, trained with binary cross-entropy against the rules engine's legal
moves of the training positions (``DATA/train/legal.npy``). In a :class:`~model.ensemble.Ensemble`
its log-sigmoid is added to the move model's scores, so that moves it has learned to be
impossible drop out of the unmasked argmax; the legal-move mask of the rules engine is still
applied on top whenever a move is played.

``xqgpt train-legality --data DIR --out DIR [--max-minutes M]`` trains one
(:mod:`model.train_legality`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from xiangqi import VOCAB_SIZE
from xiangqi.encoding import FROM_SQUARE
from xiangqi.vocab import MOVES

from .network import BOARD_CODES, MODEL_FILE, ModelLoadError, read_config, write_config

CHUNK = 8  # positions per slice of the per-move hidden layer (small slices stay in cache)
TO_SQUARE = np.array([m.to_square for m in MOVES], dtype=np.int64)


@dataclass
class LegalityConfig:
    """Size of a :class:`LegalityNet`."""

    channels: int = 64  # per-square features of the convolution trunk
    layers: int = 3     # convolution layers
    hidden: int = 256   # hidden units of the per-move head


def line_convolutions(c_in: int, c: int, layers: int) -> tuple[nn.ModuleList, nn.ModuleList, nn.ModuleList]:
    """The rank (1 x 17), file (19 x 1) and local (3 x 3) convolutions of ``layers`` layers, from
    ``c_in`` input planes to ``c`` channels: along whole lines every square sees the rest of its rank
    and file (clear paths, cannon screens) in one layer."""
    rank, file, local = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
    for i in range(layers):
        planes = c_in if i == 0 else c
        rank.append(nn.Conv2d(planes, c, (1, 17), padding=(0, 8)))
        file.append(nn.Conv2d(planes, c, (19, 1), padding=(9, 0), bias=False))
        local.append(nn.Conv2d(planes, c, 3, padding=1, bias=False))
    return rank, file, local


def apply_line_convolutions(h: torch.Tensor, rank: nn.ModuleList, file: nn.ModuleList,
                            local: nn.ModuleList) -> torch.Tensor:
    """[N, c_in, 10, 9] -> [N, c, 10, 9] through :func:`line_convolutions` (residual after the first)."""
    for i, (r, f, loc) in enumerate(zip(rank, file, local, strict=True)):
        y = torch.relu(r(h) + f(h) + loc(h))
        h = y if i == 0 else h + y
    return h


class LegalityNet(nn.Module):
    """Board -> one logit per vocabulary move: is it legal?

    A trunk of convolutions along whole ranks (1x17), whole files (19x1) and 3x3 neighbourhoods
    gives every square a feature vector; a move's logit is a one-hidden-layer MLP of the
    features of its from-square and its to-square plus a learned per-move bias vector.
    """

    def __init__(self, config: LegalityConfig) -> None:
        super().__init__()
        self.config = config
        c, inputs = config.channels, BOARD_CODES + 1  # pieces and the side to move
        self.rank, self.file, self.local = line_convolutions(inputs, c, config.layers)
        self.from_proj = nn.Linear(inputs + c, config.hidden)
        self.to_proj = nn.Linear(inputs + c, config.hidden, bias=False)
        self.move_bias = nn.Parameter(torch.zeros(VOCAB_SIZE, config.hidden))
        self.out = nn.Linear(config.hidden, 1)
        # Start at the base rate (about 40 of 2,086 moves are legal), not at one half.
        self.out_bias = nn.Parameter(torch.full((VOCAB_SIZE,), -4.0))
        self.register_buffer("from_square", torch.from_numpy(FROM_SQUARE), persistent=False)
        self.register_buffer("to_square", torch.from_numpy(TO_SQUARE), persistent=False)

    def forward(self, boards: torch.Tensor, sides: torch.Tensor,
                moves: torch.Tensor | None = None) -> torch.Tensor:
        """boards [..., 90] (board codes), sides [...] (1 = Red to move) -> logits [..., VOCAB_SIZE],
        or [..., len(moves)] for the vocabulary indices ``moves`` only (cheaper training steps)."""
        lead = boards.shape[:-1]
        one_hot = nn.functional.one_hot(boards.reshape(-1, 90).long(), BOARD_CODES).float()
        side = sides.reshape(-1, 1, 1).float().expand(-1, 90, 1)
        x0 = torch.cat([one_hot, side], -1).permute(0, 2, 1).reshape(-1, BOARD_CODES + 1, 10, 9)
        h = apply_line_convolutions(x0, self.rank, self.file, self.local)
        squares = torch.cat([x0, h], 1).flatten(2).transpose(1, 2)  # [N, 90, features]
        if moves is None:
            moves = torch.arange(VOCAB_SIZE, device=boards.device)
        from_part, to_part = self.from_proj(squares), self.to_proj(squares)
        from_squares, to_squares = self.from_square[moves], self.to_square[moves]
        move_bias = self.move_bias[moves]
        # The hidden layer holds positions x moves x hidden values: a chunk of positions at a time.
        logits = torch.cat([
            self.out(torch.relu(f.index_select(1, from_squares) + t.index_select(1, to_squares) + move_bias))
            .squeeze(-1) for f, t in zip(from_part.split(CHUNK), to_part.split(CHUNK), strict=True)])
        return (logits + self.out_bias[moves]).reshape(*lead, len(moves))

    @classmethod
    def from_pretrained(cls, path: str | Path) -> LegalityNet:
        """Load a legality-net directory (see :func:`load_legality`); raises :class:`ModelLoadError`."""
        return load_legality(path)

    def save_pretrained(self, path: str | Path, extra: dict | None = None) -> None:
        """Write a legality-net directory (see :func:`save_legality`)."""
        save_legality(self, path, extra)

    def configure_optimizers(self, learning_rate: float) -> torch.optim.AdamW:
        """AdamW without weight decay."""
        return torch.optim.AdamW(self.parameters(), lr=learning_rate, weight_decay=0.0)


def save_legality(net: LegalityNet, directory: str | Path, extra: dict | None = None) -> None:
    """Write ``config.json`` and ``model.safetensors`` (fp32) to a directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(d / MODEL_FILE))
    write_config(d, {"legality": asdict(net.config), **(extra or {})})


def load_legality(directory: str | Path) -> LegalityNet:
    """Load a directory written by :func:`save_legality`; raises :class:`ModelLoadError`."""
    d = Path(directory)
    config = read_config(d, "legality-net")
    try:
        net = LegalityNet(LegalityConfig(**config["legality"]))
        net.load_state_dict(load_file(str(d / MODEL_FILE)))
    except Exception as e:
        raise ModelLoadError(f"cannot load legality net from {d}: {e}") from e
    return net.eval()
