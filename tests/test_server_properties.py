"""A property test of the saved-games API (hypothesis): arbitrary imports, new games, moves, undos
and resigns, valid or not. After every step each stored game reads back (200) and its moves
replay from its start FEN to its FEN, and a request answered 4xx/5xx left the store unchanged."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import create_app
from server.db import new_secret
from xiangqi import STARTING_FEN, Board
from xiangqi.pgn import replay

BOARD = STARTING_FEN.split()[0]
HEADERS = ['[Event "a"]', '[Event "b"]', '[Red "x"]', '[Result "1-0"]', '[Result "0-1"]',
           '[Result "1/2-1/2"]', '[Result "*"]', '[Format "ICCS"]']
COUNTERS = st.one_of(st.integers(0, 1_000_001).map(str), st.sampled_from(["-1", "x", "9" * 4300, "+3"]))
JUNK_MOVES = ["h2e2", "a0a5", "e9e8", "xyz", "", "炮二平五", "C2=5", "h2e2 h9g7"]


@st.composite
def pgn_texts(draw) -> str:
    """PGN text: headers (keys may repeat), maybe a FEN header with any counters, legal moves from
    the start, a result, and maybe a damaged tail."""
    lines = draw(st.lists(st.sampled_from(HEADERS), max_size=4))
    if draw(st.booleans()):
        lines.append(f'[FEN "{BOARD} w - - {draw(COUNTERS)} {draw(COUNTERS)}"]')
    rng = random.Random(draw(st.integers(0, 2**16)))
    board, moves = Board(), []
    for _ in range(draw(st.integers(0, 8))):
        if board.outcome() is not None:
            break
        move = rng.choice(board.legal_moves)
        moves.append(move.uci())
        board.push(move)
    tail = draw(st.sampled_from(["", "*", "1-0", "0-1", "1/2-1/2", "h2e2 h2e2", "xyz", "{cut"]))
    return "\n".join(lines) + "\n\n" + " ".join(moves + [tail]) + "\n"


def stored_games(client: TestClient) -> list[dict]:
    """Every stored game as the API shows it, checked: it reads back, and replays to its FEN."""
    listing = client.get("/api/games", params={"limit": 100})
    assert listing.status_code == 200, listing.text
    games = []
    for summary in listing.json()["games"]:
        r = client.get(f"/api/games/{summary['id']}")
        assert r.status_code == 200, r.text
        game = r.json()
        assert replay(game["start_fen"], [m["iccs"] for m in game["moves"]]).fen() == game["fen"]
        assert client.get(f"/api/games/{summary['id']}/pgn").status_code == 200
        games.append(game)
    return sorted(games, key=lambda g: g["id"])


def request(client: TestClient, data: st.DataObject, games: list[dict]):
    """One request of any kind, on a stored game or a game that does not exist."""
    kind = data.draw(st.sampled_from(["import", "new", "move", "move", "undo", "resign"]))
    if kind == "import":
        return client.post("/api/games/import", json={"pgn": data.draw(pgn_texts()), "level": "club"})
    if kind == "new":
        return client.post("/api/games", json={"side": data.draw(st.sampled_from(["red", "black"])),
                                                "level": "club"})
    game = data.draw(st.sampled_from(games)) if games and data.draw(st.integers(0, 9)) else None
    game_id = game["id"] if game else "NoSuchGame00"
    if kind == "move":
        legal = game["legal_moves"] if game else []
        move = data.draw(st.sampled_from(legal + JUNK_MOVES) if legal else st.sampled_from(JUNK_MOVES))
        return client.post(f"/api/games/{game_id}/moves", json={"move": move})
    return client.post(f"/api/games/{game_id}/{kind}")


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_stored_game_stays_readable_and_failures_change_nothing(shipped_policy, data):
    player = {"X-Game-Secret": new_secret()}  # one player plays every game
    with TestClient(create_app(shipped_policy, "sqlite://"), headers=player) as client:
        games = stored_games(client)
        for _ in range(data.draw(st.integers(1, 8))):
            r = request(client, data, games)
            assert r.status_code in (200, 201, 404, 409, 422), r.text
            after = stored_games(client)
            if r.status_code >= 400:
                assert after == games, r.text
            games = after
