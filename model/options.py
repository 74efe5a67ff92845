"""Command-line options of ``xqgpt train`` and ``xqgpt eval`` (kept free of torch imports)."""

from __future__ import annotations

import argparse


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset directory from `xqgpt data build`")
    p.add_argument("--out", required=True, help="run directory: checkpoints, metrics, curves")
    p.add_argument("--tokenizer", choices=("move", "char"), default="move",
                   help="one token per move (default) or ICCS as 4 characters per move")
    p.add_argument("--no-board", dest="board", action="store_false",
                   help="do not add the board-state embedding to the inputs")
    p.add_argument("--init", default=None,
                   help="start from this model directory's weights and architecture (fine-tuning)")
    p.add_argument("--n-layer", type=int, default=6)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-head", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=128, help="moves per training window")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--line-channels", type=int, default=0,
                   help="add a LineEncoder with this many channels (convolutions along whole ranks and "
                        "files); with --init, added to the init model if it has none")
    p.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    p.add_argument("--max-steps", type=int, default=5000)
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after this many minutes (the cosine schedule still uses --max-steps)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="train for about this many minutes: max-steps is set from the speed of "
                        "steps 20-100 and saved in train_config.json (--resume reads it back)")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-games", type=int, default=200, help="validation games per evaluation")
    p.add_argument("--fen-context", type=float, default=0.25,
                   help="fraction of windows that start mid-game with no history")
    p.add_argument("--mirror", type=float, default=0.5,
                   help="probability of reflecting a training window left-right")
    p.add_argument("--legal-loss", type=float, default=0.0,
                   help="weight of an extra loss, -log of the probability on legal moves (the masks "
                        "come from the rules engine, computed once into DATA/train/legal.npy)")
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:0 ...")
    p.add_argument("--dtype", choices=("auto", "fp32", "bf16"), default="auto",
                   help="autocast dtype: auto = bf16 on GPUs that support it, fp32 on CPU")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--save-dtype", choices=("fp32", "fp16"), default="fp32",
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
    p.add_argument("--data", required=True, help="dataset directory from `xqgpt data build`")
    p.add_argument("--out", required=True, help="output directory for the legality net")
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=256, help="positions per step")
    p.add_argument("--moves-per-step", type=int, default=512,
                   help="vocabulary moves scored per step (a random subset, for speed)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-steps", type=int, default=5000)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--val-positions", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def add_combine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--member", action="append", required=True,
                   help="a trained model directory (repeat for each member)")
    p.add_argument("--legality", default=None, help="a legality-net directory from `xqgpt train-legality`")
    p.add_argument("--legality-weight", type=float, default=1.0,
                   help="weight of the legality net's log P(legal) added to the members' scores")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--mirror-average", action="store_true",
                   help="mark the ensemble to average each position with its mirror image when it plays")
