"""The web board in headless Chromium against a live server with the real model.

Plays by click, drag and keyboard, checks the model's reply on the board and in the move list,
undoes, imports a PGN that ends in checkmate, and saves screenshots under test-artifacts/. A page
load saves no game (the first move or "New game" does) and reopens the last unfinished one; the
model's candidates follow the chosen notation. Each test gets a server with an empty database.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from test_server import MATE_PGN

from server import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium to run the browser tests")
    pytest.importorskip("playwright", reason="the browser test needs playwright (pip install playwright)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def serve_app(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Run ``app`` under uvicorn on a free loopback port, in a thread, once it has started."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def base_url(browser, shipped_policy, tmp_path):
    """A uvicorn server with an empty game database on a free loopback port, in a thread."""
    server, thread, url = serve_app(create_app(shipped_policy, f"sqlite:///{tmp_path / 'games.db'}"))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def open_board(browser, base_url, context=None, **viewport):
    """A page of the board (in ``context``: the same browser profile, its player secret included)."""
    size = viewport or {"width": 1100, "height": 860}
    page = context.new_page() if context else browser.new_page(viewport=size)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url + "/")
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def wait_for_plies(page, n: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('#moves .mv:not(:empty)').length === {n}"
                           " && !document.querySelector('#status').textContent.includes('thinking')")


def game_state(page, base_url) -> dict:
    game_id = page.evaluate("location.hash.match(/game=([\\w-]+)/)[1]")
    return httpx.get(f"{base_url}/api/games/{game_id}").json()


def assert_board_matches(page, state: dict) -> None:
    """Every piece of the server's position is drawn on its square, and nothing else."""
    from xiangqi import Board, square_name

    drawn = set(page.eval_on_selector_all(".pieces .piece", "els => els.map(e => e.dataset.square)"))
    expected = {square_name(sq) for sq, _ in Board(state["fen"]).squares()}
    assert drawn == expected


def test_play_undo_and_import(browser, base_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_board(browser, base_url)
    assert page.locator(".pieces .piece").count() == 32

    # Keyboard first (the cursor starts on e0): walk to h2, pick up the cannon, walk to e2, drop it.
    page.focus("#board")
    for key in ["ArrowRight"] * 3 + ["ArrowUp"] * 2 + ["Enter"] + ["ArrowLeft"] * 3 + ["Enter"]:
        page.keyboard.press(key)
    wait_for_plies(page, 2)
    state = game_state(page, base_url)
    assert state["moves"][0]["iccs"] == "h2e2"
    assert_board_matches(page, state)

    page.click("#undo")
    wait_for_plies(page, 0)

    # Click-click: pick up the cannon on h2, dots appear, drop it on e2.
    page.click("[data-square='h2']")
    assert page.locator(".dots .dot").count() > 0
    page.click("[data-target='e2']")
    wait_for_plies(page, 2)
    state = game_state(page, base_url)
    reply = state["moves"][1]
    assert [m["iccs"] for m in state["moves"]][0] == "h2e2"
    assert_board_matches(page, state)
    moves = page.locator("#moves .mv:not(:empty)")
    assert moves.nth(0).inner_text() == "炮二平五" and moves.nth(1).inner_text() == reply["chinese"]
    assert page.locator(".arrows .arrow").count() > 0  # the model's candidates
    assert page.locator(".marks .last-move").count() == 2
    page.screenshot(path=str(ARTIFACTS / "board-after-move.png"))

    page.check("input[name='notation'][value='wxf']")
    assert moves.nth(0).inner_text() == "C2=5" and moves.nth(1).inner_text() == reply["wxf"]
    page.check("input[name='notation'][value='iccs']")
    assert moves.nth(1).inner_text() == reply["iccs"]
    page.uncheck("#show-candidates")
    assert page.locator(".arrows .arrow").count() == 0

    # Undo takes back both moves.
    page.click("#undo")
    wait_for_plies(page, 0)
    assert_board_matches(page, game_state(page, base_url))

    # Drag the horse from b0 to c2.
    src = page.locator("[data-square='b0']").bounding_box()
    board = page.locator("#board").bounding_box()
    cell = board["width"] / 592 * 60
    x, y = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + cell / 2, y - cell, steps=3)
    assert page.locator(".ghost-layer .piece.ghost").count() == 1
    # While the piece follows the pointer, the grid and the other pieces stay the same SVG nodes.
    page.eval_on_selector_all("#board .grid, #board .piece", "els => els.forEach(e => e.dataset.kept = '1')")
    page.mouse.move(x + cell, y - 2 * cell, steps=3)
    assert page.locator(".pieces .piece:not([data-kept])").count() == 0
    page.mouse.up()
    wait_for_plies(page, 2)
    state = game_state(page, base_url)
    assert state["moves"][0]["iccs"] == "b0c2"
    assert_board_matches(page, state)

    # Import a game that ends in checkmate: the banner says so.
    page.fill("#pgn-text", MATE_PGN)
    page.click("#import")
    page.wait_for_selector("#banner:not([hidden])")
    assert page.inner_text("#banner-title") == "Checkmate"
    assert "Red wins" in page.inner_text("#banner-detail")
    assert page.locator(".marks .check").count() == 1
    page.screenshot(path=str(ARTIFACTS / "board-checkmate-banner.png"))
    assert "World Xiangqi Championships 1997" in page.inner_text("#games")
    assert page.locator("#board .grid[data-kept]").count() == 1  # drawn once, never rebuilt
    assert errors == []
    page.close()


def test_phone_width_and_resign(browser, base_url):
    page, errors = open_board(browser, base_url, width=390, height=844)
    board = page.locator("#board").bounding_box()
    assert board["width"] <= 390 and board["width"] > 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(ARTIFACTS / "board-phone.png"), full_page=True)
    assert page.is_disabled("#resign")  # nothing saved yet
    page.click("#new")
    page.wait_for_function("location.hash.startsWith('#game=')")
    page.click("#resign")  # Resign asks for a second click
    page.click("#resign")
    page.wait_for_selector("#banner:not([hidden])")
    assert page.inner_text("#banner-title") == "Resignation"
    assert errors == []
    page.close()


def saved_games(page) -> list[dict]:
    """The games of the page's player (the list it shows: its secret goes with the request)."""
    return page.evaluate("""async () => {
        const secret = localStorage.getItem('xqgpt.secret');
        const answer = await fetch('/api/games', {headers: secret ? {'X-Game-Secret': secret} : {}});
        return (await answer.json()).games;
    }""")


def test_a_page_load_saves_nothing_and_reopens_the_last_unfinished_game(browser, base_url):
    context = browser.new_context(viewport={"width": 1100, "height": 860})  # one player: one profile
    page, errors = open_board(browser, base_url, context)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert saved_games(page) == [] and page.inner_text("#games") == "No saved games yet."
    assert page.inner_text("#status") == "Your move (Red)" and page.evaluate("location.hash") == ""

    # The first move saves the game.
    page.click("[data-square='h2']")
    page.click("[data-target='e2']")
    wait_for_plies(page, 2)
    first = game_state(page, base_url)
    assert [g["id"] for g in saved_games(page)] == [first["id"]] and first["moves"][0]["iccs"] == "h2e2"

    # "New game" saves one at once; resigned, it is finished.
    page.click("#new")
    page.wait_for_function(f"location.hash !== '#game={first['id']}'")
    second = game_state(page, base_url)
    assert second["moves"] == [] and len(saved_games(page)) == 2
    page.click("#resign")
    page.click("#resign")
    page.wait_for_selector("#banner:not([hidden])")
    page.close()

    # A new page (no #game= in the address) reopens the last unfinished game, and saves nothing.
    page, more_errors = open_board(browser, base_url, context)
    assert page.evaluate("location.hash") == f"#game={first['id']}"
    assert page.get_attribute("#games li.current", "data-id") == str(first["id"])
    wait_for_plies(page, 2)
    assert_board_matches(page, first)
    assert len(saved_games(page)) == 2
    assert errors == more_errors == []
    context.close()


def test_candidate_chips_follow_the_notation(browser, base_url):
    from xiangqi import Board, Move
    from xiangqi.notation import to_chinese, to_wxf

    page, errors = open_board(browser, base_url)
    page.click("[data-square='b0']")
    page.click("[data-target='c2']")
    wait_for_plies(page, 2)
    before_reply = Board()
    before_reply.push(Move.from_uci("b0c2"))
    chips = page.locator("#candidates .chip")
    iccs = []
    for notation in ["iccs", "wxf", "chinese"]:
        page.check(f"input[name='notation'][value='{notation}']")
        texts = [t.rsplit(" ", 1)[0] for t in chips.all_inner_texts()]
        if notation == "iccs":
            iccs = texts
            assert len(iccs) == 5 and all(before_reply.is_legal(Move.from_uci(m)) for m in iccs)
        else:
            write = to_wxf if notation == "wxf" else to_chinese
            assert texts == [write(before_reply, Move.from_uci(m)) for m in iccs]
    assert errors == []
    page.close()
