"""Ratings of the playing levels on Fairy-Stockfish's ``UCI_Elo`` scale, fitted from arena matches.

A player whose spec sets ``UCI_LimitStrength=true&UCI_Elo=E`` is an anchor with rating E; every
other player (the levels ``model:L``, Fairy-Stockfish at a ``Skill Level``) gets the rating that
makes the observed points most likely under the Elo model, ``P(A beats B) = 1 / (1 +
10^((R_B - R_A) / 400))``, all matches fitted together, so a level that never met an anchor is
rated through the players it met. One virtual draw between each pair that played keeps a clean
sweep from pushing a rating to infinity; intervals are 95% from the curvature of the likelihood.
``bench/ladder.py`` runs the fit and writes :data:`RATINGS_FILE`, which the level picker shows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

RATINGS_FILE = Path(__file__).with_name("ratings.json")
LOG10_400 = math.log(10) / 400


def level_ratings() -> dict[str, dict[str, int]]:
    """The measured rating of each level, ``{level: {"elo", "low", "high", "games"}}`` (95%
    interval), as ``bench/ladder.py`` wrote them; {} when not measured."""
    if not RATINGS_FILE.is_file():
        return {}
    return json.loads(RATINGS_FILE.read_text(encoding="utf-8"))["levels"]


@dataclass
class Match:
    """Points of ``first`` against ``second`` over ``games`` games."""

    first: str
    second: str
    games: int
    points: float


def read_matches(paths: list[Path]) -> list[Match]:
    """The arena summaries in ``paths`` (JSON objects, one a line; other lines are skipped)."""
    matches = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and '"points"' in line:
                m = json.loads(line)
                matches.append(Match(m["first"], m["second"], m["games"], m["points"]))
    return matches


def anchor_elo(spec: str) -> float | None:
    """The ``UCI_Elo`` of an engine spec that limits its strength, else None."""
    if not spec.startswith("uci:") or "?" not in spec:
        return None
    options = dict(parse_qsl(spec.partition("?")[2]))
    if options.get("UCI_LimitStrength", "").lower() == "true" and "UCI_Elo" in options:
        return float(options["UCI_Elo"])
    return None


def expected(r_a: float, r_b: float) -> float:
    return 1.0 / (1.0 + 10 ** ((r_b - r_a) / 400))


def fit(matches: list[Match], iterations: int = 2000) -> dict[str, tuple[float, float]]:
    """Rating and 95% half-interval of every player, anchors fixed; raises ValueError when no
    anchor is connected to a player."""
    players = sorted({m.first for m in matches} | {m.second for m in matches})
    anchors = {p: e for p in players if (e := anchor_elo(p)) is not None}
    if not anchors:
        raise ValueError("no anchor: play at least one match against UCI_LimitStrength=true&UCI_Elo=E")
    _check_connected(players, anchors, matches)
    start = sum(anchors.values()) / len(anchors)
    rating = {p: anchors.get(p, start) for p in players}
    # one virtual draw per pair that played: a clean sweep gets a finite rating
    games = [(m.first, m.second, m.games + 1, m.points + 0.5) for m in matches]
    for _ in range(iterations):  # Newton steps, one player at a time (a concave likelihood)
        moved = 0.0
        for p in players:
            if p in anchors:
                continue
            grad, info = _gradient(p, rating, games)
            step = max(-200.0, min(200.0, grad / info / LOG10_400))
            rating[p] += step
            moved = max(moved, abs(step))
        if moved < 1e-3:
            break
    out = {}
    for p in players:
        if p in anchors:
            out[p] = (rating[p], 0.0)
        else:
            _, info = _gradient(p, rating, games)
            out[p] = (rating[p], 1.959964 / (LOG10_400 * math.sqrt(info)))
    return out


def _gradient(player: str, rating: dict[str, float], games: list[tuple[str, str, int, float]]):
    """(points minus expected points, sum of n p (1 - p)) of ``player`` over its matches."""
    grad = info = 0.0
    for a, b, n, points in games:
        if player not in (a, b):
            continue
        p = expected(rating[a], rating[b])
        own_points, own_p = (points, p) if player == a else (n - points, 1 - p)
        grad += own_points - n * own_p
        info += n * p * (1 - p)
    return grad, info


def _check_connected(players: list[str], anchors: dict[str, float], matches: list[Match]) -> None:
    reached, frontier = set(anchors), list(anchors)
    while frontier:
        p = frontier.pop()
        for m in matches:
            for a, b in ((m.first, m.second), (m.second, m.first)):
                if a == p and b not in reached:
                    reached.add(b)
                    frontier.append(b)
    if missing := [p for p in players if p not in reached]:
        raise ValueError(f"no match connects these players to an anchor: {', '.join(missing)}")


def level_of(spec: str) -> str | None:
    """The level of a ``model:L`` spec (no model directory, no search options), else None."""
    if spec.startswith("model:") and "@" not in spec and "?" not in spec:
        return spec.split(":", 1)[1]
    return None
