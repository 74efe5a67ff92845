"""A record of several games (a CBL library) through POST /api/games/import: the answer lists every
readable game, ``game`` imports any of them; an imported game's own headers (players, event, date)
are in its state and in the saved list, which the web board shows instead of "you" and the model.
"""

from __future__ import annotations

import base64

import pytest
from conftest import FIXTURES
from fastapi.testclient import TestClient
from test_server import assert_error

from server import create_app
from server.db import new_secret
from xiangqi.pgn import Game
from xiangqi.records import read_any

FORMATS = FIXTURES / "formats"
LIBRARY = "1989年龙化杯象棋名师邀请赛35局.CBL"


@pytest.fixture(scope="module")
def client(shipped_policy, tmp_path_factory):
    if not FORMATS.is_dir():
        pytest.skip(f"format fixtures not found: {FORMATS}")
    db = tmp_path_factory.mktemp("db") / "games.db"
    app = create_app(shipped_policy, f"sqlite:///{db}")
    with TestClient(app, headers={"X-Game-Secret": new_secret()}) as c:
        yield c


def upload(client: TestClient, name: str, **body):
    data = base64.b64encode((FORMATS / name).read_bytes()).decode()
    return client.post("/api/games/import", json={"data": data, "name": name, **body})


def test_a_library_lists_its_games_and_imports_any(client):
    items = list(read_any(LIBRARY, (FORMATS / LIBRARY).read_bytes()))
    games = [(i, g) for i, g in enumerate(items) if isinstance(g, Game)]
    assert len(games) > 30 and len(games) < len(items)  # section titles are left out

    first = upload(client, LIBRARY)
    assert first.status_code == 201, first.text
    library = first.json()["library"]
    assert [g["index"] for g in library] == [i for i, _ in games]
    assert [g["title"] for g in library] == [g.headers["Title"] for _, g in games]
    assert [g["plies"] for g in library] == [len(g.moves) for _, g in games]
    assert [g["result"] for g in library] == [g.result for _, g in games]
    assert [m["iccs"] for m in first.json()["moves"]] == [m.uci() for m in games[0][1].moves]

    index, tenth = games[9]
    chosen = upload(client, LIBRARY, game=index)
    assert chosen.status_code == 201, chosen.text
    state = chosen.json()
    assert [m["iccs"] for m in state["moves"]] == [m.uci() for m in tenth.moves]
    assert state["headers"]["Red"] == tenth.headers["Red"] and state["library"] == library

    # The saved list carries each record's headers.
    listed = {g["id"]: g for g in client.get("/api/games").json()["games"]}
    assert listed[state["id"]]["headers"] == state["headers"]
    assert listed[first.json()["id"]]["headers"]["Black"] == games[0][1].headers["Black"]

    # A section title or an index past the end is no game: the 422 says which ones are.
    section = next(i for i, item in enumerate(items) if not isinstance(item, Game))
    for wrong in (section, len(items) + 5):
        assert_error(upload(client, LIBRARY, game=wrong), 422, f"no readable game {wrong}",
                     f"numbered {games[0][0]} to {games[-1][0]}")


def test_a_single_game_has_no_library_and_a_played_game_no_headers(client):
    one = upload(client, "030-黄松轩先胜冯敬如.XQF")
    assert one.status_code == 201, one.text
    assert one.json()["library"] == []
    assert one.json()["headers"]["Red"] == "黄松轩" and one.json()["headers"]["Black"] == "冯敬如"
    played = client.post("/api/games", json={}).json()
    listed = {g["id"]: g for g in client.get("/api/games").json()["games"]}
    assert listed[played["id"]]["headers"] == {}
    assert listed[one.json()["id"]]["headers"]["Date"] == "20世纪30年代"
