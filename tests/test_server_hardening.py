"""Regression tests of issue 19 through HTTP: a request that fails stores nothing, a stored game is
always readable, no data dropped without a word, and errors as the API documents them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server import create_app
from server.db import GameStore, new_secret, player_key
from xiangqi import STARTING_FEN

HUGE = "9" * 4300
KINGS = "4k4/9/9/9/9/9/9/9/9/3K5"
PLAYER = new_secret()


@pytest.fixture(scope="module")
def client(shipped_policy):
    """The app on an in-memory database of its own, and one player (its secret on every request)."""
    with TestClient(create_app(shipped_policy, "sqlite://"), headers={"X-Game-Secret": PLAYER}) as c:
        yield c


def snapshot(client: TestClient) -> list[dict]:
    """Every stored game as the API shows it."""
    games = client.get("/api/games", params={"limit": 100}).json()["games"]
    return [client.get(f"/api/games/{g['id']}").json() for g in games]


def imported(client: TestClient, pgn: str) -> dict:
    """The imported game as reading it shows it (without the secret and the record's library)."""
    r = client.post("/api/games/import", json={"pgn": pgn})
    assert r.status_code == 201, r.text
    game = r.json()
    assert game.pop("secret") == PLAYER
    game.pop("library")
    return game


def assert_error(r, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    for w in words:
        assert w.lower() in detail.lower(), detail


@pytest.mark.parametrize("fen", [f"{KINGS} b - - 0 {HUGE}", f"{KINGS} b - - {HUGE} 1",
                                 f"{KINGS} b - - 0 1000000", f"{KINGS} b - - -1 1"])
def test_fen_with_unbounded_counters_is_refused_and_nothing_is_stored(client, fen):
    before = snapshot(client)
    r = client.post("/api/games/import", json={"pgn": f'[FEN "{fen}"]\n\n1... e9e8 *\n'})
    assert_error(r, 422, "fen", "counter")
    assert_error(client.post("/api/move", json={"fen": fen[:256]}), 422, "counter")
    assert_error(client.get("/api/legal", params={"fen": fen[:256]}), 422, "counter")
    assert snapshot(client) == before


def test_largest_counters_are_read_back_and_replayed(client):
    fen = f"{KINGS} b - - 0 999999"
    g = imported(client, f'[FEN "{fen}"]\n\n1... e9e8 *\n')
    assert (g["start_fen"], g["status"]) == (fen, "playing")
    assert g["fen"] == "9/4k4/9/9/9/9/9/9/9/3K5 w - - 1 1000000"
    over = imported(client, f'[FEN "{KINGS} b - - 999999 1"]\n\n1... e9e8 *\n')
    assert over["termination"] == "move_limit" and over["fen"].endswith(" w - - 1000000 2")
    assert client.get(f"/api/games/{g['id']}").json() == g
    assert client.post(f"/api/games/{g['id']}/resign").status_code == 200
    assert client.get(f"/api/games/{g['id']}").status_code == 200


def test_a_write_whose_answer_fails_is_rolled_back(db_url):
    """The store commits only when the answer was built (``then``): a failure there stores nothing."""
    store = GameStore(db_url)

    def fail(game):
        raise ValueError("the answer could not be built")

    player = player_key(PLAYER)
    with pytest.raises(ValueError):
        store.create(player=player, start_fen=STARTING_FEN, moves=["h2e2"], human_side="black", level="club",
                     then=fail)
    assert store.recent(player, 10, 0) == ([], 0)
    game = store.create(player=player, start_fen=STARTING_FEN, moves=[], human_side="red", level="club")
    with pytest.raises(ValueError):
        store.update(game, moves=["h2e2"], result="*", termination=None, then=fail)
    assert store.get(game.id) == game
    assert store.update(game, moves=["h2e2"], result="*", termination=None).moves == ["h2e2"]
    store.close()


def test_repeated_header_key_keeps_the_last_value_and_the_moves(client):
    g = imported(client, '[Event "a"]\n[Event "b"]\n\n1. h2e2 h9g7 *\n')
    assert [m["iccs"] for m in g["moves"]] == ["h2e2", "h9g7"] and g["headers"]["Event"] == "b"


def test_a_recorded_result_stands_for_move_undo_and_resign(client):
    g = imported(client, '[Result "1-0"]\n\n1. h2e2 h9g7 1-0\n')
    assert (g["status"], g["termination"]) == ("finished", "recorded_result")
    assert_error(client.post(f"/api/games/{g['id']}/moves", json={"move": "h0g2"}), 409, "over")
    assert_error(client.post(f"/api/games/{g['id']}/undo"), 409, "recorded_result", "stands")
    assert_error(client.post(f"/api/games/{g['id']}/resign"), 409, "over")
    assert client.get(f"/api/games/{g['id']}").json() == g


def test_a_game_ended_on_the_board_can_be_taken_back(client):
    """The move limit (like checkmate) ends the game for moves and resignation, but undo takes
    back the human's last move and the reply that ended it."""
    start = STARTING_FEN.replace(" 0 1", " 118 1")
    g = imported(client, f'[FEN "{start}"]\n\n1. h2e2 h9g7 *\n')
    assert (g["termination"], g["human_side"]) == ("move_limit", "red")
    assert_error(client.post(f"/api/games/{g['id']}/moves", json={"move": "h0g2"}), 409, "over")
    assert_error(client.post(f"/api/games/{g['id']}/resign"), 409, "over")
    r = client.post(f"/api/games/{g['id']}/undo")
    assert r.status_code == 200, r.text
    back = r.json()
    assert (back["status"], back["result"], back["termination"], back["moves"]) == ("playing", "*", None, [])
    assert back["fen"] == start


def test_pgn_export_keeps_counters_that_differ_from_the_start(client):
    start = STARTING_FEN.replace(" 0 1", " 119 1")
    g = imported(client, f'[FEN "{start}"]\n\n1. h2e2 *\n')
    assert (g["start_fen"], g["termination"]) == (start, "move_limit")
    pgn = client.get(f"/api/games/{g['id']}/pgn", params={"notation": "iccs"}).text
    assert f'[FEN "{start}"]' in pgn
    again = imported(client, pgn)
    assert (again["start_fen"], again["fen"], again["termination"]) == (start, g["fen"], "move_limit")
    plain = imported(client, "1. h2e2 *\n")
    assert "[FEN" not in client.get(f"/api/games/{plain['id']}/pgn").text


@pytest.mark.parametrize("body", [b"{not json", b'{"moves": ["h2e2"]', b"\xff\xfe{}", b"{'fen': 1}"])
@pytest.mark.parametrize("path", ["/api/move", "/api/games", "/api/games/import"])
def test_unreadable_json_is_400(client, body, path):
    before = snapshot(client)
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert snapshot(client) == before


def test_readable_json_of_the_wrong_shape_stays_422(client):
    assert_error(client.post("/api/move", json=["h2e2"]), 422, "body")
    assert_error(client.post("/api/move", json={"moves": "h2e2"}), 422, "moves")


@pytest.mark.parametrize("change", ["%20{}", "{}%20", "{}=", "{}x", "+{}", "{}.", "%EF%BC%92{}"])
def test_game_ids_are_written_exactly(client, change):
    """A game id is its 12 characters: with a space, a sign or one character more it names no game."""
    g = imported(client, "1. h2e2 *\n")
    game_id = change.format(g["id"])
    assert client.get(f"/api/games/{g['id']}").status_code == 200
    for suffix, method in [("", "GET"), ("/pgn", "GET"), ("/undo", "POST"), ("/resign", "POST")]:
        assert_error(client.request(method, f"/api/games/{game_id}{suffix}"), 422, "game_id")
    assert client.get(f"/api/games/{g['id']}").json() == g


def test_perpetual_chase_is_a_documented_termination():
    """Every termination the rules engine can report is one the API's schema allows."""
    from typing import get_args

    from server.schemas import Termination
    from xiangqi import Termination as RulesTermination

    assert {t.value for t in RulesTermination} <= set(get_args(Termination))
