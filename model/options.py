"""What ``xqgpt train``, ``train-legality``, ``combine`` and ``eval`` are told (kept free of torch
imports): the run configurations as plain dataclasses, and the command-line options that fill them.

The option defaults are the dataclass defaults, so a config built in Python and one parsed from
the command line agree.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Self


class _FromArgs:
    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        """The config of parsed command-line options (other attributes are ignored)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


@dataclass
class TrainConfig(_FromArgs):
    """A training run of the GPT-2 move model (:func:`model.train.train`)."""

    data: str                    # dataset directory from `xqgpt data build`
    out: str                     # run directory: checkpoints, metrics, curves
    tokenizer: str = "move"      # "move" (one token per move) or "char" (ICCS, 4 per move)
    board: bool = True           # add the board-state embedding to the inputs
    init: str | None = None      # start from this model directory (fine-tuning)
    n_layer: int = 6
    n_embd: int = 256
    n_head: int = 8
    seq_len: int = 128           # moves per training window
    batch_size: int = 32
    grad_accum: int = 1
    lr: float = 1e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.1
    dropout: float = 0.0
    line_channels: int = 0       # channels of a LineEncoder; 0 = none
    warmup: int = 200            # warm-up steps
    max_steps: int = 5000
    max_minutes: float | None = None  # stop after this many minutes
    time_budget: float | None = None  # train for about this many minutes (sets max_steps)
    eval_every: int = 500
    eval_games: int = 200        # validation games per evaluation
    fen_context: float = 0.25    # fraction of windows that start mid-game with no history
    mirror: float = 0.5          # probability of reflecting a window left-right
    legal_loss: float = 0.0      # weight of -log P(legal move)
    grad_clip: float = 1.0
    seed: int = 1337
    device: str = "auto"         # auto, cpu, cuda, cuda:0 ...
    dtype: str = "auto"          # autocast: auto, fp32 or bf16
    threads: int | None = None   # torch CPU threads
    save_dtype: str = "fp32"     # weights of best/ and last/: fp32 or fp16
    resume: bool = False         # continue from OUT/checkpoint.pt


@dataclass
class LegalityTrainConfig(_FromArgs):
    """A training run of the legality net (:func:`model.train_legality.train_legality`)."""

    data: str                    # dataset directory from `xqgpt data build`
    out: str                     # output directory for the legality net
    channels: int = 64
    layers: int = 3
    hidden: int = 256
    batch_size: int = 256        # positions per step
    moves_per_step: int = 512    # vocabulary moves scored per step
    lr: float = 2e-3
    max_steps: int = 5000
    max_minutes: float | None = None
    eval_every: int = 500
    val_positions: int = 5000
    seed: int = 1337
    threads: int | None = None


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainConfig
    p.add_argument("--data", required=True, help="dataset directory from `xqgpt data build`")
    p.add_argument("--out", required=True, help="run directory: checkpoints, metrics, curves")
    p.add_argument("--tokenizer", choices=("move", "char"), default=d.tokenizer,
                   help="one token per move (default) or ICCS as 4 characters per move")
    p.add_argument("--no-board", dest="board", action="store_false",
                   help="do not add the board-state embedding to the inputs")
    p.add_argument("--init", default=d.init,
                   help="start from this model directory's weights and architecture (fine-tuning)")
    p.add_argument("--n-layer", type=int, default=d.n_layer)
    p.add_argument("--n-embd", type=int, default=d.n_embd)
    p.add_argument("--n-head", type=int, default=d.n_head)
    p.add_argument("--seq-len", type=int, default=d.seq_len, help="moves per training window")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--grad-accum", type=int, default=d.grad_accum)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--min-lr", type=float, default=d.min_lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--line-channels", type=int, default=d.line_channels,
                   help="add a LineEncoder with this many channels (convolutions along whole ranks and "
                        "files); with --init, added to the init model if it has none")
    p.add_argument("--warmup", type=int, default=d.warmup, help="warm-up steps")
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--max-minutes", type=float, default=d.max_minutes,
                   help="stop after this many minutes (the cosine schedule still uses --max-steps)")
    p.add_argument("--time-budget", type=float, default=d.time_budget,
                   help="train for about this many minutes: max-steps is set from the speed of "
                        "steps 20-100 and saved in train_config.json (--resume reads it back)")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--eval-games", type=int, default=d.eval_games, help="validation games per evaluation")
    p.add_argument("--fen-context", type=float, default=d.fen_context,
                   help="fraction of windows that start mid-game with no history")
    p.add_argument("--mirror", type=float, default=d.mirror,
                   help="probability of reflecting a training window left-right")
    p.add_argument("--legal-loss", type=float, default=d.legal_loss,
                   help="weight of an extra loss, -log of the probability on legal moves (the masks "
                        "come from the rules engine, computed once into DATA/train/legal.npy)")
    p.add_argument("--grad-clip", type=float, default=d.grad_clip)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:0 ...")
    p.add_argument("--dtype", choices=("auto", "fp32", "bf16"), default=d.dtype,
                   help="autocast dtype: auto = bf16 on GPUs that support it, fp32 on CPU")
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")
    p.add_argument("--save-dtype", choices=("fp32", "fp16"), default=d.save_dtype,
                   help="weights of the best/ and last/ model directories (checkpoint.pt stays fp32)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pgn", nargs="+", required=True, help="PGN files whose moves to predict")
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--context", choices=("history", "fen"), default="history",
                   help="history: the game so far; fen: only the current position")
    p.add_argument("--max-games", type=int, default=None)
    p.add_argument("--no-mirror-average", action="store_true",
                   help="predict from the game as it is only, even if the model's config asks to "
                        "average it with its mirror image")
    p.add_argument("--no-legality-net", action="store_true",
                   help="leave out an ensemble's legality net (to measure the move models alone)")
    p.add_argument("--json", action="store_true", help="print only the JSON summary line")


def add_legality_arguments(p: argparse.ArgumentParser) -> None:
    d = LegalityTrainConfig
    p.add_argument("--data", required=True, help="dataset directory from `xqgpt data build`")
    p.add_argument("--out", required=True, help="output directory for the legality net")
    p.add_argument("--channels", type=int, default=d.channels)
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="positions per step")
    p.add_argument("--moves-per-step", type=int, default=d.moves_per_step,
                   help="vocabulary moves scored per step (a random subset, for speed)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--max-minutes", type=float, default=d.max_minutes, help="stop after this many minutes")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--val-positions", type=int, default=d.val_positions)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")


def add_combine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--member", action="append", required=True,
                   help="a trained model directory (repeat for each member)")
    p.add_argument("--legality", default=None, help="a legality-net directory from `xqgpt train-legality`")
    p.add_argument("--legality-weight", type=float, default=1.0,
                   help="weight of the legality net's log P(legal) added to the members' scores")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--mirror-average", action="store_true",
                   help="mark the ensemble to average each position with its mirror image when it plays")


@dataclass
class ValueTrainConfig(_FromArgs):
    """A training run of the value net (:func:`model.train_value.train_value`)."""

    data: str                    # dataset directory with engine labels (`xqgpt data label`)
    out: str                     # output directory for the value net
    target: str = "engine"       # "engine" (labels), "result" (game results) or "both"
    channels: int = 16           # convolution channels
    layers: int = 3              # convolution layers; 0: the head reads the one-hot board
    hidden: int = 128
    batch_size: int = 256        # positions per step
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup: int = 100
    max_steps: int = 4000
    max_minutes: float | None = None
    eval_every: int = 250
    result_weight: float = 1.0   # weight of the result loss with target "both"
    mirror: float = 0.5          # probability of reflecting a training position left-right
    seed: int = 1337
    threads: int | None = None


def add_value_arguments(p: argparse.ArgumentParser) -> None:
    d = ValueTrainConfig
    p.add_argument("--data", required=True,
                   help="dataset directory whose train/val/test splits have labels from `xqgpt data label`")
    p.add_argument("--out", required=True, help="output directory for the value net")
    p.add_argument("--target", choices=("engine", "result", "both"), default=d.target,
                   help="learn the engine's scores, the games' results, or both (default: %(default)s)")
    p.add_argument("--channels", type=int, default=d.channels)
    p.add_argument("--layers", type=int, default=d.layers, help="convolution layers (0: an MLP)")
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="positions per step")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup", type=int, default=d.warmup, help="warm-up steps")
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--max-minutes", type=float, default=d.max_minutes, help="stop after this many minutes")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--result-weight", type=float, default=d.result_weight,
                   help="weight of the game-result loss with --target both")
    p.add_argument("--mirror", type=float, default=d.mirror,
                   help="probability of reflecting a training position left-right")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")
