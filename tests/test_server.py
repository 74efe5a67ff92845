"""HTTP API tests with the real shipped model: moves, games, undo, resign, PGN, and every error case.

The module's client is one player: it sends the same player secret (``X-Game-Secret``) with every
request, as the web board does (tests/test_server_ownership.py: what other clients may do)."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from server import create_app
from server.db import GameConflict, GameStore, new_secret, player_key
from xiangqi import STARTING_FEN, Board, Move

# A real game (World Championships 1997) that ends in checkmate, in Chinese notation.
MATE_PGN = """[Event "World Xiangqi Championships 1997"]
[Red "LE Thien Vi"]
[Black "BI BingJian"]
[Result "1-0"]

1. 炮二平五 马２进３ 2. 马二进三 象３进５ 3. 车一平二 炮８平７ 4. 马八进七 马８进９ 5. 炮八平九 卒３进１
6. 车九平八 炮２平１ 7. 兵五进一 士４进５ 8. 兵五进一 车１平４ 9. 马七进五 炮１进４ 10. 车八进三 炮１退２
11. 兵五进一 马３进５ 12. 炮五进四 卒３进１ 13. 马五进七 炮１平３ 14. 车八进二 车４进３ 15. 炮五平一 车４进４
16. 炮一进三 车４平７ 17. 车二进七 炮７进４ 18. 车八进四 炮３退４ 19. 车二平五 炮７进３ 20. 帅五进一 炮７平４
21. 车八平七 炮４退９ 22. 车五进一 1-0
"""
# Black to move and checkmated: no move can be asked of the model here.
MATED_FEN = "R3ka3/4a4/9/9/9/9/9/9/9/4K4 b - - 1 1"
PLAYER = new_secret()


@pytest.fixture(scope="module")
def client(shipped_policy, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "games.db"
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}"), headers={"X-Game-Secret": PLAYER}) as c:
        yield c


def new_game(client: TestClient, **body) -> dict:
    r = client.post("/api/games", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def assert_error(r: httpx.Response, status: int, *words: str) -> None:
    """A JSON error with ``status`` whose message mentions every word."""
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for w in words:
        assert w.lower() in detail.lower(), detail


# ---------------------------------------------------------------- stateless endpoints

def test_health_and_levels(client):
    assert client.get("/api/health").json()["status"] == "ok"
    levels = client.get("/api/levels").json()
    names = [lv["name"] for lv in levels["levels"]]
    assert levels["default"] in names and len(names) >= 2
    from play.ratings import level_ratings

    measured = level_ratings()  # the ladder's file: every level the picker lists shows its rating
    for lv in levels["levels"]:
        r = measured.get(lv["name"])
        assert lv["rating"] == (r["elo"] if r else None)
        assert lv["rating_95"] == ([r["low"], r["high"]] if r else None)


def test_move_from_start_position(client):
    r = client.post("/api/move", json={})
    assert r.status_code == 200, r.text
    data = r.json()
    board = Board()
    assert Move.from_uci(data["move"]) in board.legal_moves
    ps = [c["p"] for c in data["candidates"]]
    assert ps == sorted(ps, reverse=True) and 0 < sum(ps) <= 1.0001
    assert data["candidates"][0]["move"] == data["move"]  # temperature 0 plays the most likely move
    assert data["wxf"] and data["chinese"] and data["status"] == "playing"
    board.push(Move.from_uci(data["move"]))
    assert data["fen"] == board.fen()
    assert client.post("/api/move", json={"fen": STARTING_FEN, "moves": []}).json()["move"] == data["move"]


def test_move_after_moves_and_sampling(client):
    r = client.post("/api/move", json={"moves": ["h2e2", "h9g7"], "temperature": 1.0, "top_k": 3})
    assert r.status_code == 200, r.text
    board = Board()
    board.push_uci("h2e2")
    board.push_uci("h9g7")
    assert Move.from_uci(r.json()["move"]) in board.legal_moves


@pytest.mark.parametrize("body, words", [
    ({"fen": "not a fen"}, ["fen"]),
    ({"fen": "rnbakabnr/9/9/9/9/9/9/9/9/RNBAKABNR w"}, ["general"]),
    ({"moves": ["h2e2", "h2e2"]}, ["moves[1]", "illegal"]),
    ({"moves": ["zz"]}, ["moves[0]"]),
    ({"moves": "h2e2"}, ["moves"]),
    ({"temperature": "hot"}, ["temperature"]),
    ({"temperature": -1}, ["temperature"]),
    ({"top_k": 0}, ["top_k"]),
    ({"top_k": 1.5}, ["top_k"]),
    ({"colour": "red"}, ["colour"]),
    ({"fen": MATED_FEN}, ["over", "checkmate"]),
])
def test_move_errors(client, body, words):
    assert_error(client.post("/api/move", json=body), 422, *words)


def test_malformed_and_oversized_bodies(client):
    assert_error(client.post("/api/move", content=b"{not json", headers={"content-type": "application/json"}),
                 400, "json")
    assert_error(client.post("/api/move", json=["h2e2"]), 422, "body")
    big = b'{"fen": "' + b"x" * 1_100_000 + b'"}'
    r = client.post("/api/move", content=big, headers={"content-type": "application/json"})
    assert_error(r, 413, "large")

    def chunks():  # no Content-Length: the limit still applies
        for _ in range(20):
            yield b"x" * 100_000

    assert_error(client.post("/api/move", content=chunks(), headers={"content-type": "application/json"}),
                 413, "large")


def test_legal(client):
    data = client.get("/api/legal").json()
    assert len(data["moves"]) == 44 and data["turn"] == "red" and not data["in_check"]
    mated = client.get("/api/legal", params={"fen": MATED_FEN}).json()
    assert mated["moves"] == [] and mated["termination"] == "checkmate" and mated["winner"] == "red"
    assert_error(client.get("/api/legal", params={"fen": "9/9 w"}), 422, "ranks")


# ---------------------------------------------------------------- games

def test_new_game_as_red(client):
    g = new_game(client, side="red")
    assert g["moves"] == [] and g["turn"] == "red" and g["status"] == "playing" and g["reply"] is None
    assert len(g["legal_moves"]) == 44 and g["fen"] == STARTING_FEN
    assert client.get(f"/api/games/{g['id']}").json()["fen"] == STARTING_FEN


def test_new_game_as_black_model_moves_first(client):
    g = new_game(client, side="black", level="club")
    assert g["level"] == "club" and g["turn"] == "black" and len(g["moves"]) == 1
    assert g["moves"][0]["iccs"] == g["reply"]["move"] and g["moves"][0]["side"] == "red"
    assert g["reply"]["candidates"][0]["move"] == g["reply"]["move"]  # club plays the most likely move


def test_new_game_without_body_uses_defaults(client):
    r = client.post("/api/games")
    assert r.status_code == 201 and r.json()["human_side"] == "red"


def test_play_move_gets_reply(client):
    g = new_game(client)
    r = client.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["move"] == {"ply": 0, "side": "red", "iccs": "h2e2", "wxf": "C2=5", "chinese": "炮二平五"}
    reply = data["reply"]
    state = data["game"]
    assert [m["iccs"] for m in state["moves"]] == ["h2e2", reply["move"]]
    assert state["moves"][1]["chinese"] == reply["chinese"] and state["turn"] == "red"
    assert reply["move"] in {c["move"] for c in reply["candidates"]} or reply["candidates"]
    assert client.get(f"/api/games/{g['id']}").json()["moves"] == state["moves"]


def test_moves_in_other_notations(client):
    g = new_game(client)
    r = client.post(f"/api/games/{g['id']}/moves", json={"move": "炮二平五"})
    assert r.status_code == 200 and r.json()["move"]["iccs"] == "h2e2"
    r = client.post(f"/api/games/{g['id']}/moves", json={"move": "H2+3"})
    assert r.status_code == 200 and r.json()["move"]["iccs"] == "h0g2"


def test_undo_takes_back_move_and_reply(client):
    g = new_game(client)
    client.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"})
    client.post(f"/api/games/{g['id']}/moves", json={"move": "h0g2"})
    r = client.post(f"/api/games/{g['id']}/undo")
    assert r.status_code == 200 and len(r.json()["moves"]) == 2
    r = client.post(f"/api/games/{g['id']}/undo")
    assert r.status_code == 200 and r.json()["moves"] == [] and r.json()["fen"] == STARTING_FEN
    assert_error(client.post(f"/api/games/{g['id']}/undo"), 409, "no move")


def test_undo_as_black_keeps_models_first_move(client):
    g = new_game(client, side="black")
    assert_error(client.post(f"/api/games/{g['id']}/undo"), 409, "no move")
    legal = g["legal_moves"][0]
    client.post(f"/api/games/{g['id']}/moves", json={"move": legal})
    r = client.post(f"/api/games/{g['id']}/undo")
    assert r.status_code == 200 and [m["iccs"] for m in r.json()["moves"]] == [g["moves"][0]["iccs"]]


def test_resign(client):
    g = new_game(client, side="black")
    r = client.post(f"/api/games/{g['id']}/resign")
    data = r.json()
    assert r.status_code == 200 and data["status"] == "finished"
    assert (data["result"], data["termination"], data["winner"]) == ("1-0", "resignation", "red")
    assert data["legal_moves"] == []
    assert_error(client.post(f"/api/games/{g['id']}/resign"), 409, "over")
    assert_error(client.post(f"/api/games/{g['id']}/moves", json={"move": g["legal_moves"][0]}), 409, "over")
    assert_error(client.post(f"/api/games/{g['id']}/undo"), 409, "resignation")


def test_rejected_requests_leave_the_game_unchanged(client):
    g = new_game(client)
    client.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"})
    before = client.get(f"/api/games/{g['id']}").json()
    bad = [
        ({"move": "a0a5"}, 422, ["illegal"]),          # chariot through its own soldier
        ({"move": "e9e8"}, 422, ["illegal"]),          # the opponent's general
        ({"move": "xyz"}, 422, ["invalid"]),
        ({"move": ""}, 422, []),
        ({"move": 42}, 422, ["move"]),
        ({"move": None}, 422, ["move"]),
        ({}, 422, ["move"]),
        ({"move": "h0g2", "extra": 1}, 422, ["extra"]),
    ]
    for body, status, words in bad:
        assert_error(client.post(f"/api/games/{g['id']}/moves", json=body), status, *words)
    big = b'{"move": "' + b"x" * 1_100_000 + b'"}'
    r = client.post(f"/api/games/{g['id']}/moves", content=big, headers={"content-type": "application/json"})
    assert_error(r, 413, "large")
    assert client.get(f"/api/games/{g['id']}").json() == before


@pytest.mark.parametrize("method, suffix, body", [
    ("GET", "", None), ("POST", "/moves", {"move": "h2e2"}), ("POST", "/undo", None),
    ("POST", "/resign", None), ("GET", "/pgn", None),
])
def test_unknown_and_invalid_game_ids(client, method, suffix, body):
    assert_error(client.request(method, f"/api/games/AAAAAAAAAAAA{suffix}", json=body), 404, "AAAAAAAAAAAA")
    for bad in ("abc", "0", "1", str(2**40), "AAAAAAAAAAA.", "AAAAAAAAAAAAA"):
        assert_error(client.request(method, f"/api/games/{bad}{suffix}", json=body), 422, "game_id")


@pytest.mark.parametrize("body, words", [
    ({"side": "green"}, ["side"]),
    ({"side": 1}, ["side"]),
    ({"level": "grandmaster"}, ["level", "master"]),
    ({"level": 3}, ["level"]),
])
def test_new_game_errors(client, body, words):
    assert_error(client.post("/api/games", json=body), 422, *words)


def test_list_games(client):
    first = new_game(client)["id"]
    second = new_game(client)["id"]
    data = client.get("/api/games", params={"limit": 2}).json()
    assert [g["id"] for g in data["games"]] == [second, first] and data["total"] >= 2
    assert data["games"][0]["title"] == f"Game {second}"
    assert client.get("/api/games", params={"limit": 1, "offset": 1}).json()["games"][0]["id"] == first
    assert_error(client.get("/api/games", params={"limit": 0}), 422, "limit")
    assert_error(client.get("/api/games", params={"limit": "many"}), 422, "limit")


# ---------------------------------------------------------------- PGN

def test_pgn_export_and_round_trip(client):
    g = new_game(client, side="black")
    client.post(f"/api/games/{g['id']}/moves", json={"move": g["legal_moves"][0]})
    state = client.get(f"/api/games/{g['id']}").json()
    r = client.get(f"/api/games/{g['id']}/pgn")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert '[Black "Human"]' in r.text and state["moves"][0]["chinese"] in r.text
    wxf = client.get(f"/api/games/{g['id']}/pgn", params={"notation": "wxf"}).text
    assert state["moves"][0]["wxf"] in wxf
    iccs = client.get(f"/api/games/{g['id']}/pgn", params={"notation": "iccs"}).text
    imported = client.post("/api/games/import", json={"pgn": iccs})
    assert imported.status_code == 201, imported.text
    assert [m["iccs"] for m in imported.json()["moves"]] == [m["iccs"] for m in state["moves"]]
    assert_error(client.get(f"/api/games/{g['id']}/pgn", params={"notation": "fancy"}), 422, "notation")


def test_import_checkmate_game(client):
    r = client.post("/api/games/import", json={"pgn": MATE_PGN})
    assert r.status_code == 201, r.text
    g = r.json()
    assert len(g["moves"]) == 43 and g["status"] == "finished"
    assert (g["termination"], g["result"], g["winner"]) == ("checkmate", "1-0", "red")
    assert g["in_check"] and g["legal_moves"] == [] and g["headers"]["Red"] == "LE Thien Vi"
    listed = client.get("/api/games").json()["games"][0]
    assert listed["title"] == "World Xiangqi Championships 1997" and listed["termination"] == "checkmate"
    assert_error(client.post(f"/api/games/{g['id']}/moves", json={"move": "e9e8"}), 409, "over", "checkmate")
    pgn = client.get(f"/api/games/{g['id']}/pgn").text
    assert '[Event "World Xiangqi Championships 1997"]' in pgn and "1-0" in pgn


def test_import_unfinished_game_continues(client):
    g = client.post("/api/games/import", json={"pgn": "1. h2e2 h9g7 2. h0g2 *"}).json()
    assert g["status"] == "playing" and g["human_side"] == "black" and g["turn"] == "black"
    r = client.post(f"/api/games/{g['id']}/moves", json={"move": "i9h9"})
    assert r.status_code == 200 and len(r.json()["game"]["moves"]) == 5
    recorded = client.post("/api/games/import", json={"pgn": '[Result "0-1"]\n1. h2e2 h9g7 0-1'}).json()
    assert (recorded["status"], recorded["termination"], recorded["winner"]) == (
        "finished", "recorded_result", "black")


@pytest.mark.parametrize("pgn, words", [
    ("", ["no game"]),
    ("1. h2e2 h2e2", ["illegal"]),
    ("1. 炮二平五 马２进３ 2. 飞机起飞", ["invalid", "飞机起飞"]),
    ('[FEN "bad fen"]\n1. h2e2', ["fen"]),
])
def test_import_errors(client, pgn, words):
    assert_error(client.post("/api/games/import", json={"pgn": pgn}), 422, *words)


def test_import_wrong_types(client):
    assert_error(client.post("/api/games/import", json={"pgn": 5}), 422, "pgn")
    assert_error(client.post("/api/games/import", json={"text": MATE_PGN}), 422, "pgn")
    assert_error(client.post("/api/games/import", json={"pgn": MATE_PGN, "level": "x"}), 422, "level")


# ---------------------------------------------------------------- whole games, concurrency

def test_play_until_the_end_or_80_moves(client):
    """A random human against the model: every state is consistent, and a finished game stays finished."""
    rng = random.Random(7)
    g = new_game(client, level="casual")
    for _ in range(80):
        r = client.post(f"/api/games/{g['id']}/moves", json={"move": rng.choice(g["legal_moves"])})
        assert r.status_code == 200, r.text
        g = r.json()["game"]
        board = Board()
        for m in g["moves"]:
            board.push_uci(m["iccs"])
        assert board.fen() == g["fen"]
        if g["status"] == "finished":
            outcome = board.outcome()
            assert outcome and outcome.termination.value == g["termination"]
            assert outcome.result() == g["result"]
            assert_error(client.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"}), 409, "over")
            break
        assert sorted(g["legal_moves"]) == sorted(m.uci() for m in board.legal_moves)


def test_store_rejects_a_stale_write(db_url):
    store = GameStore(db_url)
    game = store.create(player=player_key(PLAYER), start_fen=STARTING_FEN, moves=[], human_side="red",
                        level="club")
    store.update(game, moves=["h2e2"], result="*", termination=None)
    with pytest.raises(GameConflict):
        store.update(game, moves=["b2e2"], result="*", termination=None)
    assert store.get(game.id).moves == ["h2e2"]
    store.close()


def test_stores_opened_at_once_on_an_empty_database_all_work(db_url):
    """Server processes starting together each create the tables: none may fail on another's."""
    start = threading.Barrier(6)

    def open_and_create(_: int) -> int:
        start.wait()
        store = GameStore(db_url)
        try:
            return store.create(player=player_key(PLAYER), start_fen=STARTING_FEN, moves=[], human_side="red",
                                level="club").id
        finally:
            store.close()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(open_and_create, range(6)))
    assert len(set(ids)) == 6


def test_default_database_is_in_the_user_data_dir(shipped_policy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with TestClient(create_app(shipped_policy)) as c:
        assert c.post("/api/games").status_code == 201
    assert (tmp_path / "xqgpt" / "games.db").is_file()


class SlowPolicy:
    """The real model, slowed down, to show that a thinking model does not block the server."""

    def __init__(self, policy, delay: float) -> None:
        self.policy, self.delay = policy, delay

    def candidates(self, board, k=None, temperature=1.0):
        time.sleep(self.delay)
        return self.policy.candidates(board, k=k, temperature=temperature)


def test_inference_runs_off_the_event_loop(shipped_policy, tmp_path):
    """The health check answers while the model thinks (1 s): before the slow move is done."""
    import asyncio

    app = create_app(SlowPolicy(shipped_policy, 1.0), f"sqlite:///{tmp_path / 'g.db'}")

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            slow = asyncio.create_task(ac.post("/api/move", json={}))
            await asyncio.sleep(0.1)
            assert (await ac.get("/api/health")).status_code == 200
            assert not slow.done()
            assert (await slow).status_code == 200

    asyncio.run(scenario())


def test_web_board_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "<svg id=\"board\"" in r.text
    assert client.get("/app.js").status_code == 200 and client.get("/style.css").status_code == 200
    assert_error(client.get("/api/nothing"), 404, "not found")


def test_concurrent_moves_on_one_game(client):
    """Two clients race on one game: each request succeeds or is refused, the stored game stays valid."""
    g = new_game(client)
    results: list[int] = []

    def play(move: str) -> None:
        results.append(client.post(f"/api/games/{g['id']}/moves", json={"move": move}).status_code)

    threads = [threading.Thread(target=play, args=(m,)) for m in ("h2e2", "b2e2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in ([200, 409], [200, 422])  # a lost race, or the second move became illegal
    assert len(client.get(f"/api/games/{g['id']}").json()["moves"]) == 2
