"""The value network: win, draw and loss probabilities for the side to move, from the board alone.

:class:`ValueNet` is a small convolutional network (in the style of the legality net): the board
is turned so that the side to move plays up the board as Red (ranks flipped and colours swapped
when Black is to move), one-hot encoded, and read by convolutions along whole ranks (1x17), whole
files (19x1) and 3x3 neighbourhoods; a small head gives three logits (win, draw, loss).

The shipped net is ``model/default/value/``; ``xqgpt train-value`` trains one
(:mod:`model.train_value`) on engine labels (``xqgpt data label``) and game results.

Centipawns and win probability: an engine's ``score cp`` maps to the expected score of the side
to move (win + draw / 2) by the logistic curve of the lichess accuracy model,
``1 / (1 + exp(-cp / CP_SCALE))``; :func:`win_probability_from_cp` and its inverse
:func:`cp_from_win_probability` (what ``xqgpt uci`` reports as ``score cp``) use it.

>>> from xiangqi import Board
>>> net = load_value()
>>> wdl = net.evaluate([Board()])      # [[win, draw, loss]] for the side to move
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from xiangqi import Board
from xiangqi.encoding import codes_array, side_code

from .legality import apply_line_convolutions, line_convolutions
from .network import BOARD_CODES, CONFIG_FILE, MODEL_FILE, ModelLoadError

CP_SCALE = 1 / 0.00368208
"""Centipawns per unit of the logistic: lichess's constant (about 272 cp), which fits
Fairy-Stockfish's xiangqi scores against master results too (model/README.md, "Value net")."""
WIN, DRAW, LOSS = 0, 1, 2  # columns of a W/D/L array
_RANK_FLIP = np.array([(9 - s // 9) * 9 + s % 9 for s in range(90)], dtype=np.int64)
_COLOUR_SWAP = np.array([0, *range(8, 15), *range(1, 8)], dtype=np.int64)


def win_probability_from_cp(cp: float | np.ndarray) -> float | np.ndarray:
    """Expected score (win + draw / 2, in 0..1) of the side to move for an engine score in
    centipawns: ``1 / (1 + exp(-cp / CP_SCALE))``."""
    p = 1 / (1 + np.exp(-np.asarray(cp, dtype=np.float64) / CP_SCALE))
    return p if np.ndim(cp) else float(p)


def cp_from_win_probability(p: float | np.ndarray) -> float | np.ndarray:
    """The inverse of :func:`win_probability_from_cp`: centipawns for an expected score ``p``
    (clipped to 1e-6..1 - 1e-6, so a sure win is about +3,750 cp, not infinite)."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    cp = CP_SCALE * np.log(q / (1 - q))
    return cp if np.ndim(p) else float(cp)


def expected_score(wdl: np.ndarray) -> np.ndarray:
    """win + draw / 2 of W/D/L probabilities [..., 3]."""
    return wdl[..., WIN] + 0.5 * wdl[..., DRAW]


def to_move_view(boards: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Board codes [n, 90] as the side to move sees them: unchanged when Red is to move, ranks
    flipped and colours swapped when Black is (so the side to move is always Red, at the bottom)."""
    boards = np.asarray(boards)
    red = np.asarray(red, dtype=bool)
    out = boards.copy()
    black = ~red
    out[black] = _COLOUR_SWAP[boards[black][:, _RANK_FLIP]]
    return out


_MATERIAL = np.array([0, 0, 2, 2, 4, 9, 4.5, 1, 0, -2, -2, -4, -9, -4.5, -1], dtype=np.float64)
"""Material of a board code (1..7 Red general, advisor, elephant, horse, chariot, cannon, soldier;
8..14 Black), in soldiers: the values of :data:`play.material.PIECE_VALUES`."""


def material_balance(boards: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Material of the side to move minus its opponent's, in soldiers, of board codes [n, 90]
    with Red to move where ``red`` [n] is true."""
    balance = _MATERIAL[np.asarray(boards, dtype=np.int64)].sum(-1)
    return np.where(np.asarray(red, dtype=bool), balance, -balance)


@dataclass
class MaterialBlend:
    """A correction of the net's expected score E by the material balance M (side to move):
    ``logit E' = net * logit E + material * M + bias``, fitted to engine scores of positions
    from real games, including the lopsided ones of engine matches that master games lack
    (``scripts/fit_value_blend.py``). The draw probability is kept where E' allows it."""

    net: float
    material: float
    bias: float

    def apply(self, wdl: np.ndarray, material: np.ndarray) -> np.ndarray:
        e = np.clip(expected_score(wdl), 1e-4, 1 - 1e-4)
        e = 1 / (1 + np.exp(-(self.net * np.log(e / (1 - e)) + self.material * material + self.bias)))
        draw = np.minimum(wdl[:, DRAW], 2 * np.minimum(e, 1 - e))
        win = e - draw / 2
        return np.stack([win, draw, 1 - win - draw], -1).astype(np.float32)


@dataclass
class ValueConfig:
    """Size of a :class:`ValueNet`."""

    channels: int = 16  # per-square features of the convolution trunk
    layers: int = 3     # convolution layers (0: the head reads the one-hot board)
    head: int = 8       # features per square fed to the head
    hidden: int = 128   # hidden units of the head


class ValueNet(nn.Module):
    """Board of the side to move -> logits of (win, draw, loss) for the side to move."""

    def __init__(self, config: ValueConfig) -> None:
        super().__init__()
        self.config = config
        self.blend: MaterialBlend | None = None  # set by load_value when the directory has one
        c = config.channels
        self.rank, self.file, self.local = line_convolutions(BOARD_CODES, c, config.layers)
        self.squeeze = nn.Conv2d(c if config.layers else BOARD_CODES, config.head, 1)
        self.hidden = nn.Linear(90 * config.head, config.hidden)
        self.out = nn.Linear(config.hidden, 3)

    def forward(self, boards: torch.Tensor) -> torch.Tensor:
        """boards [N, 90]: board codes as the side to move sees them (:func:`to_move_view`) ->
        logits [N, 3] of win, draw, loss for the side to move."""
        h = nn.functional.one_hot(boards.long(), BOARD_CODES).float()
        h = h.permute(0, 2, 1).reshape(-1, BOARD_CODES, 10, 9)
        h = apply_line_convolutions(h, self.rank, self.file, self.local)
        h = torch.relu(self.squeeze(h)).flatten(1)
        return self.out(torch.relu(self.hidden(h)))

    @torch.inference_mode()
    def wdl(self, boards: np.ndarray, red: np.ndarray, gains: np.ndarray | None = None) -> np.ndarray:
        """Win, draw, loss probabilities [n, 3] for the side to move of board codes [n, 90] with
        Red to move where ``red`` [n] is true. ``gains`` [n] (soldiers) is material the side to move
        is about to win, added to the balance that the material blend reads."""
        if len(boards) == 0:
            return np.zeros((0, 3), dtype=np.float32)
        x = torch.from_numpy(to_move_view(boards, red))
        wdl = torch.softmax(self(x).float(), -1).numpy()
        if self.blend is None:
            return wdl
        material = material_balance(boards, red)
        return self.blend.apply(wdl, material if gains is None else material + gains)

    def evaluate(self, boards: list[Board], gains: list[float] | None = None) -> np.ndarray:
        """Win, draw, loss probabilities [n, 3] for the side to move of each board, as one batch
        (``gains`` as for :meth:`wdl`)."""
        codes = np.stack([codes_array(b) for b in boards]) if boards else np.zeros((0, 90), np.uint8)
        return self.wdl(codes, np.array([side_code(b) for b in boards], dtype=bool),
                        None if gains is None else np.asarray(gains, dtype=np.float64))

    def configure_optimizers(self, learning_rate: float, weight_decay: float) -> torch.optim.AdamW:
        """AdamW with weight decay on the weight matrices and convolution kernels only."""
        decay = [p for p in self.parameters() if p.dim() >= 2]
        other = [p for p in self.parameters() if p.dim() < 2]
        return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                  {"params": other, "weight_decay": 0.0}], lr=learning_rate)


def default_value_dir() -> Path:
    """The shipped value net: ``model/default/value``."""
    return Path(__file__).resolve().parent / "default" / "value"


def save_value(net: ValueNet, directory: str | Path, extra: dict | None = None) -> None:
    """Write ``config.json`` and ``model.safetensors`` (fp32) to a directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(d / MODEL_FILE))
    (d / CONFIG_FILE).write_text(json.dumps({"value": asdict(net.config), **(extra or {})}, indent=2))


def load_value(directory: str | Path | None = None) -> ValueNet:
    """Load a directory written by :func:`save_value` (default: the shipped value net) for
    inference; raises :class:`ModelLoadError`."""
    d = Path(directory or default_value_dir())
    if not (d / CONFIG_FILE).is_file() or not (d / MODEL_FILE).is_file():
        raise ModelLoadError(f"{d} is not a value-net directory (needs {CONFIG_FILE} and {MODEL_FILE})")
    try:
        config = json.loads((d / CONFIG_FILE).read_text())
        net = ValueNet(ValueConfig(**config["value"]))
        net.load_state_dict(load_file(str(d / MODEL_FILE)))
        if "material_blend" in config:
            net.blend = MaterialBlend(**config["material_blend"])
    except Exception as e:
        raise ModelLoadError(f"cannot load value net from {d}: {e}") from e
    return net.eval()


__all__ = ["ValueNet", "ValueConfig", "MaterialBlend", "material_balance", "load_value", "save_value",
           "default_value_dir",
           "win_probability_from_cp", "cp_from_win_probability", "expected_score", "to_move_view",
           "CP_SCALE", "WIN", "DRAW", "LOSS"]


def _from_pretrained(cls: type[ValueNet], path: str | Path | None = None, device: str = "cpu") -> ValueNet:
    """Load a value-net directory (default: the shipped one) once its weights match the sha256
    recorded in its config, if any (:func:`~model.network.read_config`); raises :class:`ModelLoadError`."""
    from .network import read_config

    directory = path or default_value_dir()
    read_config(directory, "value-net")
    return load_value(directory).to(device)


def _save_pretrained(self: ValueNet, path: str | Path, extra: dict | None = None) -> None:
    """Write a value-net directory (:func:`save_value`) with the sha256 of its weights in the config."""
    from .network import write_config

    save_value(self, path, extra)
    write_config(path, json.loads((Path(path) / CONFIG_FILE).read_text()))


ValueNet.from_pretrained = classmethod(_from_pretrained)
ValueNet.save_pretrained = _save_pretrained
