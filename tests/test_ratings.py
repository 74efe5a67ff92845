"""The Elo ladder's fit (play.ratings) and the measured ratings the level picker shows."""

from __future__ import annotations

import pytest

from play.levels import LEVELS
from play.ratings import RATINGS_FILE, Match, anchor_elo, fit, level_of, level_ratings

ANCHOR = "uci:/usr/games/fairy-stockfish?UCI_LimitStrength=true&UCI_Elo=1500&movetime=50"
SKILL = "uci:/usr/games/fairy-stockfish?Skill Level=3&movetime=50"


def test_anchor_and_level_specs() -> None:
    assert anchor_elo(ANCHOR) == 1500
    assert anchor_elo(SKILL) is None
    assert anchor_elo("uci:/usr/games/fairy-stockfish?UCI_Elo=1500") is None  # not limited: full strength
    assert level_of("model:master") == "master"
    assert level_of("model:search?nodes=800") is None and level_of("model:club@runs/x") is None


def test_a_76_percent_score_is_200_elo_above_the_anchor() -> None:
    # 75.5 points in 99 games, plus the virtual draw: 76 in 100, and 1 / (1 + 10^(-200/400)) = 0.76
    rating, half = fit([Match("model:master", ANCHOR, 99, 75.5)])["model:master"]
    assert rating == pytest.approx(1500 + 400 * 0.5 * 1.0, abs=1.0)
    assert 60 < half < 100  # about 1.96 / (ln 10 / 400 * sqrt(100 * 0.76 * 0.24))


def test_a_level_is_rated_through_the_players_it_met() -> None:
    matches = [Match(SKILL, ANCHOR, 39, 19.5),  # Skill 3 plays even with the anchor
               Match("model:expert", SKILL, 99, 75.5)]  # expert scores 76% against Skill 3
    ratings = fit(matches)
    assert ratings[SKILL][0] == pytest.approx(1500, abs=1)
    assert ratings["model:expert"][0] == pytest.approx(1700, abs=5)
    assert ratings["model:expert"][1] > ratings[SKILL][1]  # two steps from the anchor: less sure


def test_a_clean_sweep_gets_a_finite_rating_and_unanchored_players_are_refused() -> None:
    rating, _ = fit([Match("model:beginner", ANCHOR, 20, 0.0)])["model:beginner"]
    assert 800 < rating < 1500
    with pytest.raises(ValueError, match="anchor"):
        fit([Match("model:master", "model:club", 10, 6.0)])
    with pytest.raises(ValueError, match="model:casual"):
        fit([Match("model:master", ANCHOR, 10, 6.0), Match("model:casual", "model:club", 10, 5.0)])


@pytest.mark.skipif(not RATINGS_FILE.is_file(), reason="no measured ratings (bench/ladder.py writes them)")
def test_every_level_has_a_measured_rating_in_order() -> None:
    ratings = level_ratings()
    assert set(ratings) == set(LEVELS)
    for r in ratings.values():
        assert r["low"] <= r["elo"] <= r["high"] and r["games"] >= 20
    assert ratings["master"]["elo"] > max(ratings[level]["elo"] for level in ("beginner", "casual", "club"))


def test_the_shipped_ratings_are_the_fit_of_the_recorded_matches() -> None:
    """play/ratings.json is what bench/ladder.py makes of bench/ladder_matches.jsonl."""
    from pathlib import Path

    from play.ratings import level_of, read_matches

    matches = read_matches([Path(__file__).resolve().parents[1] / "bench" / "ladder_matches.jsonl"])
    fitted = {level_of(p): r for p, r in fit(matches).items() if level_of(p)}
    for level, shipped in level_ratings().items():
        assert round(fitted[level][0]) == shipped["elo"]
