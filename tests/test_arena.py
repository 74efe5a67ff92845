"""The arena: bookkeeping, colours, openings, Elo, PGN and the ``xqgpt arena`` command."""

from __future__ import annotations

import json

import pytest

from play.arena import elo_estimate, random_opening, run_match, summarize, to_pgn
from play.players import GreedyPlayer, check_spec
from xiangqi import Board
from xiangqi.pgn import Game, read_games
from xqgpt.cli import main as cli_main

KEYS = {"games", "red_wins", "black_wins", "draws", "score", "elo_diff", "elo_95", "first", "second",
        "first_wins", "second_wins", "terminations", "avg_plies"}


def test_match_bookkeeping() -> None:
    records = run_match("greedy", "random", 6, openings=2, seed=3, workers=1, progress=False)
    assert [r.index for r in records] == list(range(6))
    assert [r.first_red for r in records] == [True, False] * 3
    s = summarize(records, "greedy", "random")
    assert KEYS <= s.keys()
    assert s["games"] == 6 == s["red_wins"] + s["black_wins"] + s["draws"]
    assert s["first_wins"] + s["second_wins"] + s["draws"] == 6
    assert s["points"] == s["first_wins"] + s["draws"] / 2
    assert s["score"] == pytest.approx(s["points"] / 6, abs=1e-4)
    assert s["elo_95"][0] <= s["elo_diff"] <= s["elo_95"][1]
    assert sum(s["terminations"].values()) == 6
    for r in records:
        board = Board()
        for m in r.moves:
            board.push_uci(m)
        if r.termination != "ply_cap":
            assert board.outcome().result() == r.result
            assert board.outcome().termination.value == r.termination


def test_openings_pair_up_and_vary() -> None:
    records = run_match("random", "random", 4, openings=3, seed=1, workers=1, progress=False)
    assert records[0].moves[:3] == records[1].moves[:3]
    assert records[0].moves[:3] != records[2].moves[:3]
    assert all(r.opening_plies == 3 for r in records)
    assert random_opening("x", 6) == random_opening("x", 6)
    assert len(random_opening("x", 6)) == 6


def test_deterministic_players_differ_by_opening() -> None:
    records = run_match("greedy", "greedy", 4, openings=2, seed=0, max_plies=30, workers=1, progress=False)
    assert len({tuple(r.moves) for r in records}) == 4
    assert all(r.termination == "ply_cap" and len(r.moves) == 30 for r in records)


def test_elo_estimate() -> None:
    assert elo_estimate(5, 10)[0] == pytest.approx(0.0)
    diff, low, high = elo_estimate(7.5, 10)
    assert low < diff < high and diff == pytest.approx(190.8, abs=0.1)
    assert elo_estimate(2.5, 10) == pytest.approx(tuple(-x for x in (diff, high, low)))
    best = elo_estimate(100, 100)
    assert all(x < 1000 for x in best) and best[1] > 400


def test_greedy_takes_the_biggest_capture() -> None:
    board = Board("4k4/9/9/1n7/9/R1p6/8P/9/9/3K5 w - - 0 1")
    player = GreedyPlayer()
    player.new_game(0)
    assert player.choose(board).uci() == "a4c4"


def test_player_specs() -> None:
    for spec in ("random", "greedy", "model", "model:club", "uci:/bin/engine?Skill Level=3&depth=2"):
        check_spec(spec)
    for spec in ("model:grandmaster", "minimax", "uci:", "uci:x?novalue"):
        with pytest.raises(ValueError):
            check_spec(spec)


def test_pgn_reads_back() -> None:
    records = run_match("random", "greedy", 2, openings=1, workers=1, progress=False)
    games = list(read_games(to_pgn(records, "random", "greedy")))
    assert len(games) == 2 and all(isinstance(g, Game) for g in games)
    for game, r in zip(games, records, strict=True):
        assert [m.uci() for m in game.moves] == r.moves
        assert game.result == r.result
        assert game.headers["Red"] == ("random" if r.first_red else "greedy")


def test_cli_parallel_json_and_pgn(tmp_path, capsys) -> None:
    pgn = tmp_path / "games.pgn"
    code = cli_main(["arena", "--red", "random", "--black", "greedy", "--games", "4", "--openings", "2",
                     "--workers", "2", "--max-plies", "80", "--pgn", str(pgn), "--json"])
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert len(out) == 1 and KEYS <= summary.keys() and summary["games"] == 4
    assert len(list(read_games(pgn.read_text(encoding="utf-8")))) == 4


def test_cli_rejects_bad_players(capsys) -> None:
    assert cli_main(["arena", "--red", "nobody", "--black", "random", "--games", "1"]) == 2
    assert "unknown player" in capsys.readouterr().err
