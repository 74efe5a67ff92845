"""POST /api/games/import with the record formats xiangqi players keep games in: XQF, CBR, CBL, CBF
and DhtmlXQ files sent in base64, and DhtmlXQ/CBF text pasted; bad files get the reader's reason.

The files are the fixtures in ../shared/data/fixtures/formats; ``expected.jsonl`` there gives the
main line another reader (cchess) finds, which the stored game must match.
"""

from __future__ import annotations

import base64
import json
import random

import pytest
from conftest import FIXTURES
from fastapi.testclient import TestClient
from test_server import assert_error

from server import create_app
from server.db import new_secret
from server.schemas import MAX_PLIES, MAX_RECORD_BASE64
from xiangqi.pgn import Game
from xiangqi.records import read_any

FORMATS = FIXTURES / "formats"


@pytest.fixture(scope="module")
def client(shipped_policy, tmp_path_factory):
    if not FORMATS.is_dir():
        pytest.skip(f"format fixtures not found: {FORMATS}")
    db = tmp_path_factory.mktemp("db") / "games.db"
    player = {"X-Game-Secret": new_secret()}  # the client's games are listed for it
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}"), headers=player) as c:
        yield c


def expected(name: str) -> dict:
    for line in (FORMATS / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["file"] == name:
            return entry
    raise KeyError(name)


def upload(client: TestClient, name: str, data: bytes | None = None, **body):
    data = (FORMATS / name).read_bytes() if data is None else data
    return client.post("/api/games/import", json={"data": base64.b64encode(data).decode(), "name": name,
                                                  **body})


@pytest.mark.parametrize("name", ["030-黄松轩先胜冯敬如.XQF", "test.xqf", "ucci_test1.xqf", "test.cbr",
                                  "test2.cbr", "test.cbf"])
def test_file_imports_with_the_main_line_of_the_cross_check(client, name):
    r = upload(client, name)
    assert r.status_code == 201, r.text
    game = r.json()
    want = expected(name)
    assert game["start_fen"].split(" ")[:2] == want["fen"].split(" ")
    assert [m["iccs"] for m in game["moves"]] == want["mainline_iccs"]
    # The stored game reads back the same, and its PGN export replays it.
    again = client.get(f"/api/games/{game['id']}").json()
    assert again["moves"] == game["moves"] and again["fen"] == game["fen"]
    assert client.get(f"/api/games/{game['id']}/pgn").status_code == 200


def test_xqf_headers_become_the_title_of_the_saved_game(client):
    game = upload(client, "test.xqf").json()
    assert game["headers"]["Event"] == '"中立杯"象棋电视快棋赛'
    titles = {g["id"]: g["title"] for g in client.get("/api/games?limit=100").json()["games"]}
    assert titles[game["id"]] == '"中立杯"象棋电视快棋赛'


def first_readable(name: str) -> Game:
    return next(g for g in read_any(name, (FORMATS / name).read_bytes()) if isinstance(g, Game))


@pytest.mark.parametrize("name", ["1956年全国象棋锦标赛93局.CBL", "1989年龙化杯象棋名师邀请赛35局.CBL",
                                  "shanghai-cup-2025-final.dhtmlxq.txt"])
def test_library_and_dhtmlxq_files_import_their_first_readable_game(client, name):
    r = upload(client, name)
    assert r.status_code == 201, r.text
    game = first_readable(name)
    assert [m["iccs"] for m in r.json()["moves"]] == [m.uci() for m in game.moves]
    assert len(game.moves) > 20


def test_pasted_dhtmlxq_and_cbf_text_import(client):
    text = (FORMATS / "shanghai-cup-2025-final.dhtmlxq.txt").read_text(encoding="utf-8")
    r = client.post("/api/games/import", json={"pgn": text})
    assert r.status_code == 201, r.text
    assert len(r.json()["moves"]) == 77
    assert r.json()["headers"]["Event"] == "2025年第五届上海杯象棋大师公开赛"

    cbf = (FORMATS / "test.cbf").read_text(encoding="utf-8")
    r = client.post("/api/games/import", json={"pgn": cbf})
    assert r.status_code == 201, r.text
    assert [m["iccs"] for m in r.json()["moves"]] == expected("test.cbf")["mainline_iccs"]


def test_a_file_set_up_from_a_position_keeps_it(client):
    game = upload(client, "ucci_test3.xqf").json()
    assert game["start_fen"].startswith("3k3r1/4a4/3a5/6N2/9/9/9/4C4/4p")
    assert len(game["moves"]) == 3


def test_bad_files_give_the_readers_reason(client):
    # An illegal move in the main line: the ply and the move are named.
    assert_error(upload(client, "BadMoveTest3.xqf"), 422, "BadMoveTest3.xqf", "ply 10", "illegal", "e1f0")
    xqf, cbr = (FORMATS / "test.xqf").read_bytes(), (FORMATS / "test.cbr").read_bytes()
    assert_error(upload(client, "cut.xqf", xqf[:700]), 422, "cut.xqf", "truncated")
    assert_error(upload(client, "cut.cbr", cbr[:100]), 422, "cut.cbr", "truncated")
    noise = random.Random(15).randbytes(3000)
    assert_error(upload(client, "noise.xqf", noise), 422, "noise.xqf", "magic")
    assert_error(upload(client, "noise.bin", noise), 422, "noise.bin", "binary")
    assert_error(upload(client, "empty.pgn", b""), 422, "no game", "empty.pgn")
    games_before = client.get("/api/games").json()["total"]
    assert_error(upload(client, "BadMoveTest3.xqf"), 422)
    assert client.get("/api/games").json()["total"] == games_before


def test_hostile_records_get_a_reason_not_a_500(client):
    """Records past the bounds of xiangqi.limits, and the ones that made the readers raise."""
    shuffle = ["h0g2", "h9g7", "g2h0", "g7h9"]
    too_long = " ".join(shuffle[i % 4] for i in range(MAX_PLIES + 1)) + " *"
    assert_error(client.post("/api/games/import", json={"pgn": too_long}), 422, "record too long",
                 f"more than {MAX_PLIES} plies", f"ply {MAX_PLIES + 1}")
    long_enough = " ".join(shuffle[i % 4] for i in range(MAX_PLIES)) + " *"
    r = client.post("/api/games/import", json={"pgn": long_enough})
    assert r.status_code == 201 and len(r.json()["moves"]) == MAX_PLIES
    assert_error(client.post("/api/games/import", json={"pgn": "[DhtmlXQ_movelist]" * 50_000}), 422,
                 "no DhtmlXQ tags")
    assert_error(client.post("/api/games/import", json={"pgn": "1. h2e2 $² *"}), 422, "bad NAG")
    big = "9" * 5000
    dhtmlxq = (f"[DhtmlXQ_movelist]7747[/DhtmlXQ_movelist][DhtmlXQ_move_0_1_{big}]7947"
               f"[/DhtmlXQ_move_0_1_{big}]")
    assert_error(client.post("/api/games/import", json={"pgn": dhtmlxq}), 422, "bad variation")
    bomb = ('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "' + "x" * 1000 + '">]>'
            '<ChineseChessRecord><Head><Contest>' + "&a;" * 8000 + "</Contest></Head></ChineseChessRecord>")
    assert_error(upload(client, "bomb.cbf", bomb.encode("utf-16")), 422, "DOCTYPE")


def test_malformed_requests(client):
    r = client.post("/api/games/import", json={"data": "not base64!", "name": "x.xqf"})
    assert_error(r, 422, "base64")
    assert_error(client.post("/api/games/import", json={"data": "象棋"}), 422, "base64", "ASCII")
    assert_error(client.post("/api/games/import", json={"name": "x.xqf"}), 422, "pgn", "data")
    both = {"pgn": "1. h2e2 *", "data": ""}
    assert_error(client.post("/api/games/import", json=both), 422, "one of the two")
    assert_error(client.post("/api/games/import", json={"data": 5}), 422, "data")
    too_long = "A" * (MAX_RECORD_BASE64 + 4)
    r = client.post("/api/games/import", json={"data": too_long})
    assert r.status_code in (413, 422) and "detail" in r.json()


# ---------------------------------------------------------------- a game from a position (/?fen= links)

def test_new_game_from_a_position(client):
    fen = "3k3r1/4a4/3a5/6N2/9/9/9/4C4/4p4/4K4 w - - 0 1"  # ucci_test3.xqf's set-up, Red to move
    r = client.post("/api/games", json={"side": "red", "fen": fen})
    assert r.status_code == 201, r.text
    game = r.json()
    assert game["start_fen"] == fen and game["moves"] == [] and game["reply"] is None
    assert game["turn"] == "red" and game["status"] == "playing"

    # The human takes the side not to move: the model moves first, from that position.
    r = client.post("/api/games", json={"side": "black", "fen": fen})
    game = r.json()
    assert game["start_fen"] == fen and len(game["moves"]) == 1 and game["moves"][0]["side"] == "red"
    assert game["reply"]["move"] == game["moves"][0]["iccs"]


def test_new_game_from_a_finished_or_bad_position(client):
    from test_server import MATED_FEN

    game = client.post("/api/games", json={"side": "red", "fen": MATED_FEN}).json()
    assert (game["status"], game["termination"], game["winner"]) == ("finished", "checkmate", "red")
    assert_error(client.post("/api/games", json={"fen": "9/9/9 w"}), 422, "fen")
