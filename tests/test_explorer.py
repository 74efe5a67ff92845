"""The opening explorer: its index checked against a direct count of the fixture games, its
rules (transpositions merged, mirror images apart, results, ratings, years), the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict

import pytest
from fastapi.testclient import TestClient

from data.explorer import SHIPPED_INDEX, Explorer, position_key
from data.explorer_build import build_index, game_year
from server import create_app
from xiangqi import Board
from xiangqi.pgn import read_pgn_file

PLIES = 30


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory, wxf15_paths) -> str:
    """An index of the 15 fixture games, read in all three notations (copies merged)."""
    out = tmp_path_factory.mktemp("explorer") / "wxf15.sqlite"
    summary = build_index([str(p) for p in wxf15_paths.values()], str(out), plies=PLIES, min_games=1,
                          workers=1)
    assert summary["games"] == 15
    return str(out)


def direct_count(games) -> dict[str, Counter]:
    """For each position (FEN's board and side) of the games' first plies: how many games played
    each move there, counting a game once per position."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for game in games:
        board, seen = game.board(), set()
        for move in game.moves[:PLIES]:
            placement = " ".join(board.fen().split()[:2])
            if placement not in seen:
                seen.add(placement)
                counts[placement][move.uci()] += 1
            board.push(move)
    return counts


def test_index_matches_a_direct_count(fixture_index, wxf15_paths):
    games = read_pgn_file(str(wxf15_paths["iccs"]))
    assert len(games) == 15
    expected = direct_count(games)
    explorer = Explorer(fixture_index)
    assert explorer.meta["positions"] == len(expected)
    for placement, moves in expected.items():
        entry = explorer.lookup(Board(placement + " - - 0 1"))
        assert {m.move: m.stats.games for m in entry.moves} == dict(moves), placement
        assert entry.stats.games == sum(moves.values())
    start = explorer.lookup(Board())
    assert start.stats.games == 15 and start.moves[0].move == "h2e2" and start.moves[0].stats.games == 10
    assert len(start.examples) == 3 and all(g.moves[0] == g.move for g in start.examples)
    explorer.close()


def test_position_not_in_the_index(fixture_index):
    entry = Explorer(fixture_index).lookup(Board("3k5/9/9/9/9/9/9/9/9/4K4 w - - 0 1"))
    assert entry.stats is None and entry.moves == [] and entry.examples == []


RECORDS = """[Event "Cup A"]
[Date "1999.05.01"]
[Red "Li"]
[RedElo "2400"]
[Black "Wang"]
[BlackElo "2200"]
[Result "1-0"]

1. h2e2 h9g7 2. b0c2 i9h9 1-0

[Event "Cup B"]
[Date "09-08-01"]
[Red "Zhao"]
[Black "Qian"]
[Result "0-1"]

1. b0c2 h9g7 2. h2e2 i9h9 0-1

[Event "Cup C"]
[Date "2003年4月"]
[Red "Sun"]
[RedElo "2000"]
[Black "Zhou"]
[Result "1/2-1/2"]

1. b2e2 b9c7 2. b0c2 a9b9 1/2-1/2

[Event "Cup D"]
[RedElo "²"]
[Red "Wu"]
[Black "Zheng"]
[Result "*"]

1. h2e2 h9g7 2. b0c2 h7h3 *
"""


def test_transpositions_mirrors_results_and_ratings(tmp_path):
    (tmp_path / "games.pgn").write_text(RECORDS, encoding="utf-8")
    out = tmp_path / "small.sqlite"
    build_index([str(tmp_path / "games.pgn")], str(out), min_games=1, example_min_games=1, workers=1)
    explorer = Explorer(str(out))
    start = explorer.lookup(Board())
    assert (start.stats.games, start.stats.red, start.stats.draws, start.stats.black) == (4, 1, 1, 1)
    # Both move orders reach the position after C2=5 H8+7 H8+7: one entry, their games
    board = Board()
    for move in ("h2e2", "h9g7", "b0c2"):
        board.push_uci(move)
    merged = explorer.lookup(board)
    assert merged.stats.games == 3
    assert {m.move: m.stats.games for m in merged.moves} == {"i9h9": 2, "h7h3": 1}
    i9h9 = next(m for m in merged.moves if m.move == "i9h9")
    assert (i9h9.stats.red, i9h9.stats.black) == (1, 1)
    # The game with ratings gives its players' mean; the unrated game none
    assert i9h9.stats.rating == 2300 and merged.stats.rating == 2300
    # The mirror image of C2=5 (C8=5) is another position, with only its own game
    mirror = Board()
    mirror.push_uci("b2e2")
    assert explorer.lookup(mirror).stats.games == 1
    assert explorer.lookup(mirror).stats.rating == 2000  # one player's rating when only one is known
    # The examples: the rated games first, best rated first; players, event and year kept
    first = explorer.lookup(Board()).examples[0]
    assert (first.red, first.black, first.red_elo, first.event, first.year) == ("Li", "Wang", 2400, "Cup A",
                                                                                 1999)
    assert position_key(board) != position_key(board.mirror())
    explorer.close()


def test_min_games_drops_rare_positions(tmp_path):
    (tmp_path / "games.pgn").write_text(RECORDS, encoding="utf-8")
    out = tmp_path / "small.sqlite"
    summary = build_index([str(tmp_path / "games.pgn")], str(out), min_games=2, workers=1)
    explorer = Explorer(str(out))
    board = Board()
    board.push_uci("b2e2")
    assert explorer.lookup(board).stats is None
    assert explorer.lookup(Board()).stats.games == 4  # all its moves are kept, the rare one too
    assert summary["positions"] == explorer.meta["positions"] < 20


@pytest.mark.parametrize("text, year", [("1963年8月15日", 1963), ("2005.03.01", 2005), ("09-08-01", 2009),
                                        ("98-1-2", 1998), ("", None), ("unknown", None)])
def test_game_year(text, year):
    assert game_year(text) == year


@pytest.fixture(scope="module")
def client(tmp_path_factory, shipped_policy, fixture_index):
    db = tmp_path_factory.mktemp("explorer-api") / "games.db"
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}", explorer=fixture_index)) as c:
        yield c


def test_api_answers_counts_and_the_models_probabilities(client):
    r = client.get("/api/explorer", params={"moves": "h2e2"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["turn"] == "black" and body["position"]["games"] == 10
    played = [m for m in body["moves"] if m["games"]]
    assert [(m["move"], m["games"], m["chinese"]) for m in played] == [("h9g7", 7, "马８进７"),
                                                                      ("b9c7", 3, "马２进３")]
    assert all(0 < m["p"] <= 1 for m in body["moves"])
    assert len(body["moves"]) == len(played) + 3  # the model's likeliest unplayed moves, games 0
    assert body["examples"][0]["moves"][0] == "h2e2" and body["index"]["games"] == 15
    # The same position by FEN; without the model's probabilities
    fen = body["fen"]
    r = client.get("/api/explorer", params={"fen": fen, "probabilities": "false"})
    assert [m["move"] for m in r.json()["moves"]] == ["h9g7", "b9c7"]
    assert all(m["p"] is None for m in r.json()["moves"])


@pytest.mark.parametrize("params, words", [({"fen": "not a fen"}, "fen"), ({"moves": "h2e2 h2e2"}, "illegal"),
                                           ({"moves": "zz99"}, "move")])
def test_api_bad_positions_are_422(client, params, words):
    r = client.get("/api/explorer", params=params)
    assert r.status_code == 422 and words in r.json()["detail"].lower()


def test_api_without_an_index_is_503(tmp_path, shipped_policy):
    app = create_app(shipped_policy, f"sqlite:///{tmp_path / 'g.db'}", explorer=str(tmp_path / "none.sqlite"))
    with TestClient(app) as c:
        r = c.get("/api/explorer")
    assert r.status_code == 503 and "xqgpt data explorer" in r.json()["detail"]


def xqgpt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xqgpt", *args], capture_output=True, text=True, timeout=120)


def test_cli_builds_and_explores(tmp_path, wxf15_paths):
    out = tmp_path / "cli.sqlite"
    r = xqgpt("data", "explorer", str(wxf15_paths["iccs"]), "--out", str(out), "--min-games", "2")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["games"] == 15 and summary["bytes"] == out.stat().st_size
    r = xqgpt("explore", "startpos", "--index", str(out), "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["position"]["games"] == 15 and body["moves"][0]["wxf"] == "C2=5"
    r = xqgpt("explore", "startpos", "--moves", "h2e2", "--index", str(out), "--notation", "chinese")
    assert r.returncode == 0 and "马８进７" in r.stdout and r.stdout.split()[7] == "10"
    r = xqgpt("explore", "startpos", "--index", str(tmp_path / "missing.sqlite"))
    assert r.returncode == 2 and r.stderr.startswith("xqgpt: error: no explorer index")


@pytest.mark.skipif(not SHIPPED_INDEX.is_file(), reason="the shipped index is not built")
def test_shipped_index_opens_the_main_lines():
    explorer = Explorer()
    start = explorer.lookup(Board())
    assert start.stats.games > 10_000 and start.moves[0].move == "h2e2"
    assert explorer.meta["plies"] >= 20 and explorer.meta["rated_games"] > 1000
    explorer.close()
