"""Games belong to their players (issue 28): an unguessable public id that anyone may read, a
player secret that only the creating client is given and without which moves, take-backs and
resignations are refused (403), a list that shows a client its own games only, and the migration
of a database from before games had owners (SQLite, and PostgreSQL with $XQGPT_TEST_POSTGRES)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server import create_app
from server.db import GameStore, new_secret, player_key
from xiangqi import STARTING_FEN

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{12}")


@pytest.fixture(scope="module")
def app(shipped_policy, tmp_path_factory):
    return create_app(shipped_policy, f"sqlite:///{tmp_path_factory.mktemp('db') / 'games.db'}")


@pytest.fixture(scope="module")
def alice(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def bob(app):
    with TestClient(app) as c:
        yield c


def created(client: TestClient, path: str = "/api/games", secret: str | None = None, **body) -> dict:
    headers = {"X-Game-Secret": secret} if secret else {}
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def as_player(secret: str) -> dict[str, str]:
    return {"X-Game-Secret": secret}


def assert_error(r, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    for w in words:
        assert w.lower() in detail.lower(), detail


def test_a_new_game_has_an_unguessable_id_and_a_secret_given_only_to_its_creator(alice, bob):
    first, second = created(alice), created(alice)
    for g in (first, second):
        assert PUBLIC_ID.fullmatch(g["id"]) and g["yours"] is True
        assert len(g["secret"]) >= 32
    assert first["id"] != second["id"] and first["secret"] != second["secret"]
    seen = bob.get(f"/api/games/{first['id']}")
    assert seen.status_code == 200 and "secret" not in seen.json() and seen.json()["yours"] is False
    mine = alice.get(f"/api/games/{first['id']}", headers=as_player(first["secret"])).json()
    assert mine["yours"] is True and "secret" not in mine


def test_moves_undo_and_resign_need_the_players_secret(alice, bob):
    g = created(alice)
    secret = g["secret"]
    r = alice.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"}, headers=as_player(secret))
    assert r.status_code == 200, r.text
    before = alice.get(f"/api/games/{g['id']}").json()
    for headers in ({}, as_player(new_secret())):
        assert_error(bob.post(f"/api/games/{g['id']}/moves", json={"move": "h0g2"}, headers=headers),
                     403, "not yours", "X-Game-Secret")
        assert_error(bob.post(f"/api/games/{g['id']}/undo", headers=headers), 403, "not yours")
        assert_error(bob.post(f"/api/games/{g['id']}/resign", headers=headers), 403, "not yours")
    assert bob.get(f"/api/games/{g['id']}").json() == before
    assert bob.get(f"/api/games/{g['id']}/pgn").status_code == 200  # anyone with the link may read it
    assert alice.post(f"/api/games/{g['id']}/undo", headers=as_player(secret)).status_code == 200
    resigned = alice.post(f"/api/games/{g['id']}/resign", headers=as_player(secret))
    assert resigned.json()["status"] == "finished"


def test_the_list_shows_a_client_its_own_games_only(alice, bob):
    a, b = new_secret(), new_secret()
    mine = [created(alice, secret=a)["id"],
            created(alice, "/api/games/import", secret=a, pgn="1. h2e2 *")["id"]]
    theirs = created(bob, secret=b)["id"]
    listed = alice.get("/api/games", headers=as_player(a)).json()
    assert [g["id"] for g in listed["games"]] == mine[::-1] and listed["total"] == 2
    assert [g["id"] for g in bob.get("/api/games", headers=as_player(b)).json()["games"]] == [theirs]
    assert bob.get("/api/games").json() == {"games": [], "total": 0}  # a new browser: nobody's games


def test_a_game_created_with_a_secret_belongs_to_it(alice, bob):
    secret = new_secret()
    g = created(alice, secret=secret, side="black", level="club")
    assert g["secret"] == secret and len(g["moves"]) == 1
    r = bob.post(f"/api/games/{g['id']}/moves", json={"move": g["legal_moves"][0]}, headers=as_player(secret))
    assert r.status_code == 200, r.text  # whoever holds the secret is the player


@pytest.mark.parametrize("secret", ["short", "x" * 101, "has space in it and is long enough", "ünicode" * 5])
def test_a_malformed_secret_is_422(alice, secret: str):
    g = created(alice)
    headers = {"X-Game-Secret": secret.encode("utf-8")}
    assert_error(alice.post(f"/api/games/{g['id']}/moves", json={"move": "h2e2"}, headers=headers),
                 422, "x-game-secret")
    assert_error(alice.get("/api/games", headers=headers), 422, "x-game-secret")


def test_continue_from_here_starts_a_new_game_of_ones_own(alice, bob):
    """A watcher continues a shared game from its position: a new game with its history, the
    watcher's, while the shared game stays as it was."""
    g = created(alice)
    secret = g["secret"]
    for move in ("h2e2", "h0g2"):
        assert alice.post(f"/api/games/{g['id']}/moves", json={"move": move},
                          headers=as_player(secret)).status_code == 200
    shared = bob.get(f"/api/games/{g['id']}").json()
    played = [m["iccs"] for m in shared["moves"]]
    fork = created(bob, fen=shared["start_fen"], moves=played, side=shared["turn"])
    assert fork["id"] != g["id"] and fork["secret"] != secret and fork["yours"]
    assert [m["iccs"] for m in fork["moves"]] == played and fork["fen"] == shared["fen"]
    r = bob.post(f"/api/games/{fork['id']}/moves", json={"move": fork["legal_moves"][0]},
                 headers=as_player(fork["secret"]))
    assert r.status_code == 200, r.text
    assert bob.get(f"/api/games/{g['id']}").json() == shared
    assert_error(bob.post("/api/games", json={"moves": ["h2e2", "h2e2"]}), 422, "moves[1]")


# ---------------------------------------------------------------- migration


class OldBase(DeclarativeBase):
    pass


class OldGameRow(OldBase):
    """The games table as it was before games had owners (integer ids only)."""

    __tablename__ = "games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    start_fen: Mapped[str] = mapped_column(String(128))
    moves: Mapped[str] = mapped_column(Text, default="")
    human_side: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(8), default="*")
    termination: Mapped[str | None] = mapped_column(String(32), nullable=True)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)


def old_database(url: str, games: int) -> None:
    """A database of the old schema holding ``games`` games."""
    engine = create_engine(url)
    OldBase.metadata.create_all(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(OldGameRow.__table__), [
            {"created_at": now, "updated_at": now, "start_fen": STARTING_FEN,
             "moves": ["h2e2", "h2e2 h9g7"][i % 2], "human_side": "red", "level": "club", "result": "*",
             "termination": None, "headers": {"Event": f"old {i}"}, "version": 1} for i in range(games)])
    engine.dispose()


def test_games_stored_before_owners_get_public_ids_and_players(shipped_policy, db_url):
    old_database(db_url, 5)
    store = GameStore(db_url)  # migrates
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, public_id, player FROM games ORDER BY id")).all()
    store.close()
    assert len(rows) == 5
    assert all(PUBLIC_ID.fullmatch(public_id) for _, public_id, _ in rows)
    assert len({public_id for _, public_id, _ in rows}) == 5
    assert all(re.fullmatch(r"[0-9a-f]{64}", player) for _, _, player in rows)
    assert len({player for _, _, player in rows}) == 5  # a secret each, which nobody was given

    with TestClient(create_app(shipped_policy, db_url)) as c:  # opening it again changes nothing
        for i, (_, public_id, _) in enumerate(rows):
            g = c.get(f"/api/games/{public_id}").json()
            assert g["headers"]["Event"] == f"old {i}" and len(g["moves"]) == 1 + i % 2 and not g["yours"]
            assert_error(c.post(f"/api/games/{public_id}/resign"), 403, "not yours")
        assert c.get("/api/games").json()["total"] == 0
        new = created(c)
        assert c.get("/api/games", headers=as_player(new["secret"])).json()["total"] == 1
        assert c.post(f"/api/games/{new['id']}/moves", json={"move": "h2e2"},
                      headers=as_player(new["secret"])).status_code == 200
    store = GameStore(db_url)
    assert store.get(rows[0][1]).player == rows[0][2]
    assert store.recent(player_key(new["secret"]), 10, 0)[1] == 1
    store.close()
