"""Fit the value net's material correction (model.value.MaterialBlend) to Fairy-Stockfish's scores.

    .venv/bin/python scripts/fit_value_blend.py --data runs/ccpd_value --pgn A.pgn --pgn B.pgn ... \
        [--value model/default/value] [--write]

Master games rarely leave material hanging, so the value net, trained on their positions, hardly
knows what a lost chariot is worth; the positions of engine matches (``xqgpt arena --pgn``) are
full of it. This labels every position of the ``--pgn`` games with Fairy-Stockfish at ``--depth``
(cached beside the first PGN), then fits ``logit E' = a * logit E + b * material + c`` by
logistic regression on the validation labels of ``--data`` and the positions of the first half of
the games, the two sets weighted equally. It prints the Brier score of the net alone and of the
blend on the other half of the games and on the test labels; ``--write`` stores the blend as
``material_blend`` in the value directory's ``config.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.label import load_labels  # noqa: E402
from model.value import (  # noqa: E402
    MaterialBlend,
    default_value_dir,
    expected_score,
    load_value,
    material_balance,
    win_probability_from_cp,
)
from xiangqi import Board  # noqa: E402
from xiangqi.encoding import codes_array, side_code  # noqa: E402
from xiangqi.engine import EngineSpec, Limit, UciClient  # noqa: E402
from xiangqi.pgn import read_pgn_file  # noqa: E402

MATE_CP = 3000  # a mate counts as this many centipawns


def engine_cp(score) -> float:
    return float(np.clip(score.score(MATE_CP), -MATE_CP, MATE_CP))


def label_games(pgns: list[Path], engine: str, depth: int) -> list[list[tuple[str, float]]]:
    """(FEN, engine centipawns for the side to move) of every unfinished position, game by game;
    cached in ``<first pgn>.labels.json``."""
    cache = pgns[0].with_suffix(".labels.json")
    key = {"pgns": [str(p) for p in pgns], "depth": depth}
    if cache.is_file() and json.loads(cache.read_text())["key"] == key:
        return json.loads(cache.read_text())["games"]
    games = [g for p in pgns for g in read_pgn_file(str(p))]
    out = []
    with UciClient(EngineSpec.parse(engine)) as client:
        for game in tqdm(games, desc="labelling games"):
            board, rows = game.board(), []
            for move in game.moves:
                board.push(move)
                if board.outcome() is None:
                    rows.append((board.fen(), engine_cp(client.analyse(board, Limit(depth=depth))[0])))
            out.append(rows)
    cache.write_text(json.dumps({"key": key, "games": out}))
    return out


def features(net, codes: np.ndarray, red: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """logit of the net's expected score (without a blend), and the material balance."""
    blend, net.blend = net.blend, None
    try:
        e = np.clip(expected_score(net.wdl(codes, red)), 1e-4, 1 - 1e-4)
    finally:
        net.blend = blend
    return np.log(e / (1 - e)), material_balance(codes, red)


def fit(sets: list[tuple[np.ndarray, np.ndarray, np.ndarray]], steps: int = 5000) -> MaterialBlend:
    """Logistic regression of the target expected scores on (logit E, material, 1), each set weighted
    equally (full-batch gradient descent on the cross-entropy)."""
    w = np.array([1.0, 0.0, 0.0])
    for _ in range(steps):
        grad = np.zeros(3)
        for logit, material, target in sets:
            x = np.stack([logit, material, np.ones_like(logit)], 1)
            p = 1 / (1 + np.exp(-x @ w))
            grad += x.T @ (p - target) / len(target)
        w -= 0.05 * grad / len(sets)
    a, b, c = (round(float(x), 4) for x in w)
    return MaterialBlend(net=a, material=b, bias=c)


def brier(net, blend: MaterialBlend | None, codes, red, target) -> float:
    logit, material = features(net, codes, red)
    e = 1 / (1 + np.exp(-logit))
    if blend is not None:
        e = 1 / (1 + np.exp(-(blend.net * logit + blend.material * material + blend.bias)))
    return float(np.mean((e - target) ** 2))


def label_arrays(labels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cp = np.where(labels["mate"] != 0, np.sign(labels["score"]) * MATE_CP, labels["score"])
    target = win_probability_from_cp(np.clip(cp, -MATE_CP, MATE_CP))
    return labels["boards"], labels["red"].astype(bool), target


def game_arrays(games: list[list[tuple[str, float]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    boards = [Board(fen) for rows in games for fen, _ in rows]
    cps = np.array([cp for rows in games for _, cp in rows])
    return (np.stack([codes_array(b) for b in boards]), np.array([side_code(b) for b in boards], dtype=bool),
            win_probability_from_cp(cps))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset directory with val and test labels")
    parser.add_argument("--pgn", type=Path, action="append", required=True, help="engine-match games")
    parser.add_argument("--value", default=str(default_value_dir()))
    parser.add_argument("--engine", default="/usr/games/fairy-stockfish")
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="store the blend in the value directory")
    args = parser.parse_args()
    net = load_value(args.value)
    games = label_games(args.pgn, args.engine, args.depth)
    half = len(games) // 2
    fit_games, held_games = game_arrays(games[:half]), game_arrays(games[half:])
    val, test = label_arrays(load_labels(args.data, "val", check=False)), label_arrays(
        load_labels(args.data, "test", check=False))
    blend = fit([(*features(net, b, r), t) for b, r, t in (val, fit_games)])
    print(f"blend: {blend}")
    print(f"fitted on {len(val[2])} validation positions and {len(fit_games[2])} positions of {half} games")
    print("| positions | net alone (Brier) | with the blend (Brier) |\n|---|---:|---:|")
    for name, (b, r, t) in ((f"{len(held_games[2])} of the other {len(games) - half} games", held_games),
                            (f"{len(test[2])} test positions (master games)", test)):
        print(f"| {name} | {brier(net, None, b, r, t):.4f} | {brier(net, blend, b, r, t):.4f} |")
    if args.write:
        path = Path(args.value) / "config.json"
        config = json.loads(path.read_text())
        config["material_blend"] = blend.__dict__
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
