"""``POST /api/analyse`` with the shipped model and value net: the answer's shape and meaning
(Red's side, legal lines, exact finished games, a found mate), bounded work, and 4xx for bad or
oversized input. Few nodes: the machine is small. The schema test (tests/test_schema.py) covers
the route too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_analysis import MATE_IN_1
from test_server import MATE_PGN

from server import create_app
from server.schemas import MAX_ANALYSE_NODES
from xiangqi import Board, Move
from xiangqi.pgn import read_games


@pytest.fixture(scope="module")
def client(shipped_policy, tmp_path_factory):
    db = tmp_path_factory.mktemp("analyse-db") / "games.db"
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}")) as c:
        yield c


def test_analyse_a_position(client):
    r = client.post("/api/analyse", json={"moves": ["h2e2"], "nodes": 16, "multipv": 3})
    assert r.status_code == 200, r.text
    a = r.json()
    board = Board()
    board.push(Move.from_uci("h2e2"))
    assert a["fen"] == board.fen() and a["turn"] == "black" and a["status"] == "playing"
    assert sum(a["wdl"]) == pytest.approx(1, abs=1e-4) and a["score"]["mate"] is None
    assert 1 <= a["nodes"] <= 16 and 1 <= len(a["lines"]) <= 3
    # the position reads its best line's evaluation (of every legal move's): Black to move, none of
    # the lines shown is better for Black; more lines shown change neither the evaluation nor the first lines
    def red(wdl: list[float]) -> float:
        return wdl[0] + wdl[1] / 2

    assert all(red(a["wdl"]) <= red(line["wdl"]) + 1e-9 for line in a["lines"])
    more = client.post("/api/analyse", json={"moves": ["h2e2"], "nodes": 16, "multipv": 5}).json()
    assert more["wdl"] == a["wdl"] and more["lines"][:len(a["lines"])] == a["lines"]
    legal = {m.uci() for m in board.legal_moves}
    for line in a["lines"]:
        assert line["move"] in legal and line["pv"][0] == line["move"]
        assert len(line["pv"]) == len(line["pv_wxf"]) == len(line["pv_chinese"])
        walk = board.copy()
        for move in line["pv"]:  # the whole line is playable
            walk.push(Move.from_uci(move))


def test_scores_are_from_reds_side(client):
    red = client.post("/api/analyse", json={"fen": MATE_IN_1, "nodes": 64}).json()
    assert red["score"] == {"cp": None, "mate": 1} and red["wdl"] == [1.0, 0.0, 0.0]
    black = client.post("/api/analyse", json={"fen": _mirror(MATE_IN_1), "nodes": 64}).json()
    assert black["turn"] == "black" and black["score"] == {"cp": None, "mate": -1}
    assert black["wdl"] == [0.0, 0.0, 1.0]


def _mirror(fen: str) -> str:
    """The position with the colours swapped and the board turned: Black to move mates."""
    placement, turn, *rest = fen.split()
    ranks = [r.swapcase() for r in reversed(placement.split("/"))]
    return " ".join(["/".join(ranks), "b" if turn == "w" else "w", *rest])


def test_finished_game_is_exact(client):
    game = next(read_games(MATE_PGN))
    r = client.post("/api/analyse", json={"moves": [m.uci() for m in game.moves], "nodes": 400})
    a = r.json()
    assert r.status_code == 200 and a["status"] == "finished" and a["termination"] == "checkmate"
    assert a["lines"] == [] and a["nodes"] == 0 and a["wdl"] == [1.0, 0.0, 0.0]
    assert a["score"] == {"cp": None, "mate": None}


@pytest.mark.parametrize("body, status, words", [
    ({"fen": "not a fen"}, 422, ["FEN"]),
    ({"moves": ["h2e2", "h2e2"]}, 422, ["moves[1]"]),
    ({"moves": ["zz"]}, 422, ["moves[0]"]),
    ({"nodes": MAX_ANALYSE_NODES + 1}, 422, ["nodes"]),
    ({"nodes": 0}, 422, ["nodes"]),
    ({"nodes": "100"}, 422, ["nodes"]),
    ({"multipv": 6}, 422, ["multipv"]),
    ({"depth": 30}, 422, ["depth"]),
    ({"moves": ["a0a1"] * 2001}, 422, ["moves"]),
    ({"fen": "9/" * 300}, 422, ["fen"]),
])
def test_bad_requests_are_4xx(client, body, status, words):
    r = client.post("/api/analyse", json=body)
    assert r.status_code == status and all(w in r.json()["detail"] for w in words), r.text


def test_oversized_body_is_413(client):
    r = client.post("/api/analyse", content=b'{"moves": [' + b'"h2e2",' * 200_000 + b'"h2e2"]}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]


FAIRY = "/usr/games/fairy-stockfish"


@pytest.mark.skipif(not Path(FAIRY).is_file(), reason="Fairy-Stockfish is not installed")
def test_an_analysis_engine_answers_instead_of_the_search(shipped_policy, tmp_path):
    """``create_app(analysis_engine=...)`` (``xqgpt serve --analysis-engine``): the evaluation and
    best move come from Fairy-Stockfish, the same answer twice; an engine that cannot start is 503."""
    spec = f"uci:{FAIRY}?depth=5"
    with TestClient(create_app(shipped_policy, f"sqlite:///{tmp_path / 'a.db'}", analysis_engine=spec)) as c:
        first = c.post("/api/analyse", json={"moves": ["h2e2"], "multipv": 3})
        assert first.status_code == 200, first.text
        a = first.json()
        board = Board()
        board.push(Move.from_uci("h2e2"))
        assert a["turn"] == "black" and len(a["lines"]) == 1 and a["nodes"] == 0
        assert Move.from_uci(a["lines"][0]["move"]) in board.legal_moves and a["score"]["cp"] is not None
        assert c.post("/api/analyse", json={"moves": ["h2e2"]}).json() == a
        mated = c.post("/api/analyse", json={"fen": MATE_IN_1}).json()
        assert mated["score"] == {"cp": None, "mate": 1} and mated["wdl"] == [1.0, 0.0, 0.0]
    with TestClient(create_app(shipped_policy, f"sqlite:///{tmp_path / 'b.db'}",
                               analysis_engine="uci:/no/such/engine")) as c:
        r = c.post("/api/analyse", json={})
        assert r.status_code == 503 and "engine" in r.json()["detail"], r.text
