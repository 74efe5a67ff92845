"""Puzzles: the shipped set (every line legal and ending in mate; a sample re-verified against
Fairy-Stockfish), judging an attempt, Glicko-2 (Glickman's worked example), the API's ratings
and the terminal's ``xqgpt puzzle``."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from data.puzzles import SHIPPED_PUZZLES, Puzzle, Rating, glicko2_update, judge, load_puzzles, rate_attempt
from server import create_app
from server.db import new_secret
from xiangqi import Board, Move

FAIRY = Path("/usr/games/fairy-stockfish")


@pytest.fixture(scope="module")
def puzzles() -> tuple[Puzzle, ...]:
    if not SHIPPED_PUZZLES.is_file():
        pytest.skip("the shipped puzzle set is not built")
    return load_puzzles()


def test_glickman_worked_example():
    """Glickman's 'Example of the Glicko-2 system': 1500/200/0.06 against 1400/30 (won),
    1550/100 (lost) and 1700/300 (lost) becomes 1464.06 / 151.52 / 0.05999."""
    r = glicko2_update(Rating(1500, 200, 0.06), [(Rating(1400, 30), 1), (Rating(1550, 100), 0),
                                                 (Rating(1700, 300), 0)])
    assert (round(r.rating, 2), round(r.rd, 2), round(r.volatility, 5)) == (1464.05, 151.52, 0.05999)


def test_an_attempt_moves_both_ratings():
    player, puzzle = Rating(1500, 200), Rating(1600, 150)
    won_player, won_puzzle = rate_attempt(player, puzzle, solved=True)
    lost_player, lost_puzzle = rate_attempt(player, puzzle, solved=False)
    assert won_player.rating > 1500 > lost_player.rating
    assert won_puzzle.rating < 1600 < lost_puzzle.rating
    assert won_player.rd < 200 and lost_player.rd < 200  # a game makes a rating surer
    # beating a much weaker puzzle is worth less than beating a stronger one
    assert rate_attempt(player, Rating(1200, 150), True)[0].rating - 1500 < won_player.rating - 1500


def test_judge():
    p = Puzzle("x", "4k4/9/9/9/9/9/9/9/9/4K4 w - - 0 1", ["a1a2", "b1b2", "c1c2"], [], "")
    assert judge(p, []) is None and judge(p, ["a1a2"]) is None
    assert judge(p, ["a1a2", "c1c2"]) is True
    assert judge(p, ["a1a3"]) is False and judge(p, ["a1a2", "c1c3"]) is False


def test_every_shipped_line_is_legal_and_mates(puzzles):
    assert len(puzzles) >= 20
    assert len({p.id for p in puzzles}) == len(puzzles)
    for p in puzzles:
        board = Board(p.fen)
        solver = board.turn
        for uci in p.moves:
            move = Move.from_uci(uci)
            assert board.is_legal(move), (p.id, uci)
            board.push(move)
        assert not board.legal_moves and board.turn != solver, p.id  # the defender has no move left
        assert p.themes[0] == f"mate{p.solver_moves}" and p.solver_moves <= 5


@pytest.mark.skipif(not FAIRY.is_file(), reason="Fairy-Stockfish is not installed")
def test_a_sample_reverified_by_fairy_stockfish(puzzles):
    """Each sampled puzzle: the engine still mates along the stored line, the solver's moves are
    the only winning ones and the defender's replies its best (the builder's own check, again)."""
    from data.puzzles_build import DEFAULT_ENGINE, MultiPvClient, solve
    from xiangqi.engine import EngineSpec, Limit

    sample = random.Random(0).sample(list(puzzles), 3)
    with MultiPvClient(EngineSpec.parse(DEFAULT_ENGINE), timeout=120.0) as engine:
        for p in sample:
            engine.new_game()
            line = solve(engine, Board(p.fen), Limit(depth=12), 5, Limit(depth=10))
            assert line is not None and [m.uci() for m in line] == p.moves, p.id


@pytest.fixture(scope="module")
def client(tmp_path_factory, shipped_policy, puzzles):
    db = tmp_path_factory.mktemp("puzzles") / "games.db"
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}")) as c:
        yield c


def test_api_solved_and_failed_move_the_ratings(client, puzzles):
    me = {"X-Game-Secret": new_secret()}
    first = client.get("/api/puzzles/next", headers=me).json()
    assert first["player"] == {"rating": 1500, "rd": 350, "attempts": 0, "solved": 0}
    assert first["secret"] is None and Board(first["fen"]).turn == (first["turn"] == "red")
    solver_moves = first["moves"][::2]
    # an attempt that is not over is refused
    if len(solver_moves) > 1:
        r = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves[:1]}, headers=me)
        assert r.status_code == 422 and "not over" in r.json()["detail"]
    r = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves}, headers=me).json()
    assert r["solved"] and r["rated"] and r["player"]["rating"] > 1500 and r["player"]["attempts"] == 1
    assert r["puzzle"]["rating"] < first["rating"]["rating"] and r["solution"] == first["moves"]
    after_win = r["player"]["rating"]
    # the next puzzle is another one; a wrong first move fails it and the rating falls
    second = client.get("/api/puzzles/next", headers=me).json()
    assert second["id"] != first["id"] and second["player"]["rating"] == after_win
    wrong = next(m.uci() for m in Board(second["fen"]).legal_moves if m.uci() != second["moves"][0])
    r = client.post(f"/api/puzzles/{second['id']}/attempt", json={"moves": [wrong]}, headers=me).json()
    assert not r["solved"] and r["rated"] and r["player"]["rating"] < after_win
    assert r["puzzle"]["rating"] > second["rating"]["rating"]
    # trying a puzzle again is recorded but rated no more
    again = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves},
                        headers=me).json()
    assert again["solved"] and not again["rated"] and again["player"]["rating"] == r["player"]["rating"]


def test_api_gives_a_new_player_a_secret_and_rejects_unknown_puzzles(client):
    r = client.get("/api/puzzles/next").json()
    assert r["secret"] and r["player"]["attempts"] == 0
    assert client.post("/api/puzzles/nosuch/attempt", json={"moves": ["h2e2"]}).status_code == 404
    r = client.post(f"/api/puzzles/{r['id']}/attempt", json={"moves": "h2e2"})
    assert r.status_code == 422


def test_terminal_puzzle_solved_then_quit(tmp_path, puzzles):
    """``xqgpt puzzle`` with one puzzle: the solver's moves typed in, the rating kept in the file."""
    one = tmp_path / "one.jsonl"
    p = puzzles[0]
    one.write_text(json.dumps(vars(p), ensure_ascii=False) + "\n", encoding="utf-8")
    ratings = tmp_path / "ratings.json"
    typed = "\n".join(p.moves[::2]) + "\nquit\n"
    r = subprocess.run([sys.executable, "-m", "xqgpt", "puzzle", "--puzzles", str(one),
                        "--ratings", str(ratings)], input=typed, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Solved!" in r.stdout and "to move and win" in r.stdout
    saved = json.loads(ratings.read_text())
    assert saved["player"][0] > 1500 and saved["seen"] == [p.id]
