"""``xqgpt``: one command with subcommands for the rules engine, data, model, server and arena.

Each subcommand imports its module only when it runs, so ``xqgpt perft`` never loads torch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from xiangqi.engine import UciError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


MAX_PERFT_DEPTH = 20


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line, ``xqgpt perft: error: ...``, exit status 2 (usage: ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` (to ``high``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value
    return parse


def check_output_file(path: str, option: str) -> None:
    """Raise ``ValueError`` unless a file can be written at ``path`` (checked before the work)."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option} {path} is a folder, not a file")
    if not target.parent.is_dir():
        raise ValueError(f"{option} {path}: folder {target.parent} does not exist")
    if not os.access(target if target.exists() else target.parent, os.W_OK):
        raise ValueError(f"{option} {path} cannot be written (permission denied)")


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_perft(args: argparse.Namespace) -> int:
    from xiangqi import STARTING_FEN, Board
    from xiangqi.perft import perft, perft_divide

    board = Board(STARTING_FEN if args.fen == "startpos" else args.fen)
    if args.divide:
        total = 0
        for move, n in perft_divide(board, args.depth):
            print(f"{move.uci()}: {n}")
            total += n
        print()
    else:
        total = perft(board, args.depth)
    print(total)
    return 0


def cmd_data_build(args: argparse.Namespace) -> int:
    from data.dataset import build

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ValueError(f"--out {args.out} is a file; give a dataset folder (new or from an earlier build)")
    summary = build(args.src, args.out, mirror=args.mirror, workers=args.workers)
    for line in summary.pop("rejected_examples"):
        print(line, file=sys.stderr)
    _print_json(summary)
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    from data.dataset import check

    summary = check(args.files, workers=args.workers)
    for line in summary.pop("rejected_examples"):
        print(line, file=sys.stderr)
    _print_json(summary)
    if not summary["accepted"]:
        print("xqgpt: error: no readable game in the sources", file=sys.stderr)
        return 1
    return 0


def cmd_data_explorer(args: argparse.Namespace) -> int:
    from data.explorer_build import build_index

    check_output_file(args.out, "--out")
    summary = build_index(args.src, args.out, plies=args.plies, min_games=args.min_games,
                          workers=args.workers)
    _print_json(summary)
    return 0


def cmd_data_puzzles(args: argparse.Namespace) -> int:
    from data.puzzles_build import build_puzzles

    check_output_file(args.out, "--out")
    _print_json(build_puzzles(args.src, args.out, engine=args.engine, depth=args.depth,
                              screen_depth=args.screen_depth, max_mate=args.max_mate, limit=args.limit))
    return 0


def cmd_puzzle(args: argparse.Namespace) -> int:
    from play.puzzle_terminal import main as puzzle_main

    return puzzle_main(args)


def cmd_explore(args: argparse.Namespace) -> int:
    from data.explorer import Explorer, explore_text
    from xiangqi import STARTING_FEN, Board

    board = Board(STARTING_FEN if args.fen == "startpos" else args.fen)
    for move in args.moves.replace(",", " ").split():
        board.push_uci(move)
    explorer = Explorer(args.index)
    entry = explorer.lookup(board)
    if args.json:
        _print_json(entry.as_dict(board))
    else:
        print(explore_text(board, entry, args.notation))
    explorer.close()
    return 0


def cmd_data_label(args: argparse.Namespace) -> int:
    from data.label import label

    _print_json(label(args.data_dir, args.engine, split=args.split, depth=args.depth, nodes=args.nodes,
                      limit=args.limit, workers=args.workers, seed=args.seed))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from model.options import TrainConfig
    from model.train import train

    record = train(TrainConfig.from_args(args))
    if record:  # rank 0 of a DDP run
        _print_json(record)
    return 0


def cmd_train_legality(args: argparse.Namespace) -> int:
    from model.options import LegalityTrainConfig
    from model.train_legality import train_legality

    _print_json(train_legality(LegalityTrainConfig.from_args(args)))
    return 0


def cmd_train_value(args: argparse.Namespace) -> int:
    from model.options import ValueTrainConfig
    from model.train_value import train_value

    _print_json(train_value(ValueTrainConfig.from_args(args)))
    return 0


def cmd_combine(args: argparse.Namespace) -> int:
    from model.ensemble import combine

    _print_json(combine(args.member, args.out, legality=args.legality, legality_weight=args.legality_weight,
                        mirror_average=args.mirror_average))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from model.accuracy import evaluate_files

    if args.max_games is not None and args.max_games < 1:
        raise ValueError(f"--max-games must be at least 1, not {args.max_games}")
    result = evaluate_files(args.pgn, args.model, context=args.context, max_games=args.max_games,
                            mirror_average=not args.no_mirror_average, legality_net=not args.no_legality_net,
                            progress=not args.json)
    if not args.json:
        for k, v in result.items():
            print(f"{k:>15}: {v}", file=sys.stderr)
    _print_json(result)
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from play.analysis import analyse_main

    return analyse_main(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import main as serve_main

    return serve_main(args)


def cmd_arena(args: argparse.Namespace) -> int:
    from play.arena import main as arena_main

    if args.pgn:
        check_output_file(args.pgn, "--pgn")
    return arena_main(args)


def cmd_uci(args: argparse.Namespace) -> int:
    from play.protocols import main as uci_main

    return uci_main(args)


def cmd_play(args: argparse.Namespace) -> int:
    from play.terminal import main as play_main

    if args.pgn:
        check_output_file(args.pgn, "--pgn")
    return play_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xqgpt",
                                     description="Xiangqi-GPT: rules engine, GPT-2 move model, server.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("perft", help="count leaf nodes of the move tree (rules-engine check)")
    p.add_argument("fen", help="a FEN string, or 'startpos'")
    p.add_argument("depth", type=_int_in(0, MAX_PERFT_DEPTH))
    p.add_argument("--divide", action="store_true", help="print the count below each root move")
    p.set_defaults(func=cmd_perft)

    data = sub.add_parser("data", help="build or check training data from PGN files")
    dsub = data.add_subparsers(dest="data_command", required=True)
    p = dsub.add_parser("build", help="build a deduplicated, split training set")
    p.add_argument("src", nargs="+", help="PGN files, folders or .tar.gz/.zip archives")
    p.add_argument("--out", required=True, help="output dataset directory")
    p.add_argument("--mirror", action="store_true", help="add left-right mirrored training games")
    p.add_argument("--workers", type=_int_in(1), default=None, help="processes (default: up to 2)")
    p.set_defaults(func=cmd_data_build)
    p = dsub.add_parser("check", help="read and validate PGN without writing a dataset")
    p.add_argument("files", nargs="+", help="PGN files, folders or .tar.gz/.zip archives")
    p.add_argument("--workers", type=_int_in(1), default=None)
    p.set_defaults(func=cmd_data_check)
    p = dsub.add_parser("explorer", help="build an opening explorer index (SQLite) of game records")
    p.add_argument("src", nargs="+", help="game records: files, folders or .tar.gz/.zip archives")
    p.add_argument("--out", required=True, help="the index file to write (replaced)")
    p.add_argument("--plies", type=_int_in(1, 200), default=30,
                   help="positions before each of a game's first N moves (default: %(default)s)")
    p.add_argument("--min-games", type=_int_in(1), default=3,
                   help="keep positions that at least N games reached (default: %(default)s)")
    p.add_argument("--workers", type=_int_in(1), default=None, help="processes (default: up to 2)")
    p.set_defaults(func=cmd_data_explorer)
    p = dsub.add_parser("puzzles", help="verified puzzles (mates in N) from composed problems and games, "
                        "by a UCI engine; resumable JSON lines")
    p.add_argument("src", nargs="+", help="problem records (files, folders or .tar.gz/.zip archives) or "
                   "dataset directories with engine labels (`xqgpt data label`)")
    p.add_argument("--out", required=True,
                   help="the JSON-lines file to write (positions it or OUT.checked holds are skipped)")
    p.add_argument("--engine", default="/usr/games/fairy-stockfish?UCI_Variant=xiangqi&Threads=1&Hash=32",
                   help="UCI engine spec (default: %(default)s)")
    p.add_argument("--depth", type=_int_in(1, 60), default=12,
                   help="search depth of the checks (default: 12)")
    p.add_argument("--screen-depth", type=_int_in(1, 60), default=10,
                   help="depth of the first look that turns away positions without a mate (default: 10)")
    p.add_argument("--max-mate", type=_int_in(1, 20), default=5,
                   help="longest mate kept, in moves (default: 5)")
    p.add_argument("--limit", type=_int_in(1), default=None, help="look at the first N records only "
                   "(each position of a labelled dataset a record)")
    p.set_defaults(func=cmd_data_puzzles)
    p = dsub.add_parser("label", help="store an engine's score and best move for positions of a split "
                        "(DATA_DIR/SPLIT/labels; resumable)")
    p.add_argument("data_dir", help="dataset directory from `xqgpt data build`")
    p.add_argument("--engine", default="/usr/games/fairy-stockfish",
                   help="UCI engine spec, PATH[?Option=value&...] (default: %(default)s)")
    limit = p.add_mutually_exclusive_group(required=True)
    limit.add_argument("--depth", type=_int_in(1), help="search depth per position")
    limit.add_argument("--nodes", type=_int_in(1), help="search nodes per position")
    p.add_argument("--split", choices=("train", "val", "test"), default="train")
    p.add_argument("--limit", type=_int_in(0), default=None,
                   help="label at most this many positions (a seeded random sample of the split)")
    p.add_argument("--workers", type=_int_in(1), default=2, help="engine processes (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the order positions are labelled in")
    p.set_defaults(func=cmd_data_label)

    from model.options import (
        add_combine_arguments,
        add_eval_arguments,
        add_legality_arguments,
        add_train_arguments,
        add_value_arguments,
    )

    p = sub.add_parser("train", help="train the GPT-2 move model")
    add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("train-legality", help="train the legality net (which moves are legal, learned "
                                              "from the board)")
    add_legality_arguments(p)
    p.set_defaults(func=cmd_train_legality)

    p = sub.add_parser("train-value", help="train the value net (win/draw/loss for the side to move) on "
                       "engine labels and game results")
    add_value_arguments(p)
    p.set_defaults(func=cmd_train_value)

    p = sub.add_parser("combine", help="join trained models (and a legality net) into one ensemble model")
    add_combine_arguments(p)
    p.set_defaults(func=cmd_combine)

    p = sub.add_parser("eval", help="predict every move of PGN games and report accuracy")
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("analyse", help="evaluate a position, or review a game: each move's evaluation, the "
                       "best move and inaccuracies, mistakes and blunders (PGN with [%%eval] and NAGs)")
    p.add_argument("source", help="a PGN file (every game is reviewed) or a FEN")
    p.add_argument("--nodes", type=_int_in(1, 100_000), default=200,
                   help="search playouts per position (default: %(default)s)")
    p.add_argument("--multipv", type=_int_in(1, 10), default=3, help="lines shown for a FEN (default: 3)")
    p.add_argument("--json", action="store_true", help="one JSON object per game or position")
    p.add_argument("--notation", choices=("chinese", "wxf", "iccs"), default="chinese",
                   help="moves of the PGN and lines written (default: chinese)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--value", default=None, help="value-net directory (default: the shipped one)")
    p.add_argument("--engine", default=None,
                   help="review with an external engine instead of the search: uci:COMMAND[?Option=value"
                        "&depth=N|movetime=MS|nodes=N] (default depth 12), "
                        "e.g. uci:/usr/games/fairy-stockfish")
    p.set_defaults(func=cmd_analyse)

    p = sub.add_parser("explore", help="the opening explorer: the games' moves in a position, how they went")
    p.add_argument("fen", help="a FEN, or 'startpos'")
    p.add_argument("--moves", default="", help="ICCS moves played from the FEN, e.g. 'h2e2 h9g7'")
    p.add_argument("--index", default=None, help="index file or database URL (default: the shipped index)")
    p.add_argument("--notation", choices=("chinese", "wxf", "iccs"), default="wxf",
                   help="how moves are written (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("puzzle", help="solve puzzles in the terminal (a Glicko-2 rating that moves)")
    p.add_argument("--puzzles", default=None, help="puzzle file (default: the shipped set)")
    p.add_argument("--model", default=None,
                   help="model directory of the defender's answers off the line (default: the shipped model)")
    p.add_argument("--ratings", default=None,
                   help="ratings file (default: $XDG_DATA_HOME/xqgpt/puzzles.json)")
    p.add_argument("--chinese", action="store_true", help="Chinese pieces in colour")
    p.add_argument("--seed", type=int, default=None, help="seed of the choice among puzzles near your rating")
    p.set_defaults(func=cmd_puzzle)

    p = sub.add_parser("serve", help="run the web board and move API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_int_in(0, 65535), default=8000)
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--db", default=None, help="database URL (default: SQLite in the user data dir)")
    p.add_argument("--explorer", default=None,
                   help="opening explorer index, a file or database URL (default: the shipped index)")
    p.add_argument("--puzzles", default=None,
                   help="puzzle file, JSON lines from `xqgpt data puzzles` (default: the shipped set)")
    p.add_argument("--workers", type=_int_in(1, 64), default=1,
                   help="server processes, each with its own copy of the model and its share of the cores")
    p.add_argument("--no-batching", action="store_true",
                   help="one forward pass per request instead of batching concurrent requests")
    p.add_argument("--analysis-engine", default=None,
                   help="evaluation bar, hints and review from an external engine instead of the search: "
                        "uci:COMMAND[?Option=value&depth=N|movetime=MS] (default depth 12)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("arena", help="play matches between players and report the score")
    p.add_argument("--red", required=True,
                   help="first player (scored; plays Red in odd games): model[:level][@DIR], random, greedy "
                        "or uci:COMMAND[?Option=value&movetime=MS|depth=N|nodes=N&ranks=0|1]")
    p.add_argument("--black", required=True, help="second player (plays Black in odd games)")
    p.add_argument("--games", type=_int_in(1), default=10)
    p.add_argument("--openings", type=_int_in(0), default=0,
                   help="random opening plies before play (games 2j and 2j+1 share one, colours swapped)")
    p.add_argument("--pgn", default=None, help="write all games to this PGN file")
    p.add_argument("--workers", type=_int_in(1), default=None, help="game processes (default: up to 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the openings and of sampling players")
    p.add_argument("--movetime", type=_int_in(1), default=100,
                   help="ms per move for UCI engines without movetime/depth/nodes in their spec")
    p.add_argument("--max-plies", type=_int_in(1), default=400,
                   help="stop a game as a draw after this many plies")
    p.add_argument("--json", action="store_true", help="print only the JSON summary line")
    p.set_defaults(func=cmd_arena)

    p = sub.add_parser("uci", help="speak the UCI protocol on stdin/stdout with the model")
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--level", default=None, help="playing level (default: master; expert searches)")
    p.add_argument("--value", default=None,
                   help="value-net directory for the search (default: the shipped one)")
    p.set_defaults(func=cmd_uci)

    p = sub.add_parser("play", help="play the model in the terminal")
    p.add_argument("--side", choices=["red", "black"], default="red", help="your side (default: red)")
    p.add_argument("--level", default=None, help="the model's level (default: the default level)")
    p.add_argument("--fen", default=None, help="start position (default: the usual start)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--pgn", default=None, help="write the session's games to this PGN file")
    style = p.add_mutually_exclusive_group()
    style.add_argument("--ascii", action="store_true", help="plain letters, no colours")
    style.add_argument("--chinese", action="store_true",
                       help="Chinese pieces in colour even when the output is not a terminal")
    p.set_defaults(func=cmd_play)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, OSError, UciError) as e:  # bad input, paths or engines; a bug keeps its traceback
        print(f"xqgpt: error: {_one_line(e)}", file=sys.stderr)
        return 2


def _one_line(e: BaseException) -> str:
    """The error's message on one line; an OSError as 'reason: path'."""
    if isinstance(e, OSError) and e.strerror:
        text = f"{e.strerror}: {e.filename}" if e.filename else e.strerror
    else:
        text = str(e) or type(e).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    raise SystemExit(main())
