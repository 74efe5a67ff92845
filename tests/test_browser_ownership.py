"""Games belong to their players, in the browser (issue 28): headless Chromium against a live
server with the real model (fixtures from test_browser). Two browser contexts are two players with
their own localStorage: the second does not see the first one's game in its list, cannot move in
it, gets a new game of its own at the bare URL, and sees the game's shared link read-only, with
"Continue from here" starting a game of its own from that position."""

from __future__ import annotations

import httpx
import pytest
from test_browser import base_url, browser, wait_for_plies  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1100, "height": 860}


def open_page(context, url: str):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def listed(base_url: str, secret: str | None) -> list[str]:  # noqa: F811
    headers = {"X-Game-Secret": secret} if secret else {}
    return [g["id"] for g in httpx.get(f"{base_url}/api/games", headers=headers).json()["games"]]


def test_a_second_browser_watches_but_cannot_play_the_first_ones_game(browser, base_url):  # noqa: F811
    first = browser.new_context(viewport=VIEWPORT)
    page, errors = open_page(first, base_url + "/")
    page.click("[data-square='h2']")
    page.click("[data-target='e2']")
    wait_for_plies(page, 2)
    link = page.evaluate("location.href")
    game_id = link.split("#game=")[1]
    secret = page.evaluate("localStorage.getItem('xqgpt.secret')")
    assert secret and listed(base_url, secret) == [game_id]
    before = httpx.get(f"{base_url}/api/games/{game_id}").json()

    # A second browser at the bare URL: the start position, an empty list, nobody's game.
    second = browser.new_context(viewport=VIEWPORT)
    other, other_errors = open_page(second, base_url + "/")
    assert other.evaluate("location.hash") == "" and other.locator(".pieces .piece").count() == 32
    assert other.inner_text("#games") == "No saved games yet."
    status = other.evaluate("""async (id) => (await fetch(`/api/games/${id}/moves`, {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({move: "h0g2"})})).status""",
                            game_id)
    assert status == 403

    # The shared link shows the game read-only.
    watch, watch_errors = open_page(second, link)
    wait_for_plies(watch, 2)
    assert "shared game" in watch.inner_text("#status")
    assert watch.is_disabled("#undo") and watch.is_disabled("#resign") and watch.is_visible("#continue")
    watch.click("[data-square='h0']")
    assert watch.locator(".dots .dot").count() == 0  # nothing to move
    assert watch.inner_text("#games") == "No saved games yet."
    assert httpx.get(f"{base_url}/api/games/{game_id}").json() == before

    # "Continue from here": a game of the second browser's own, from that position, with its moves.
    watch.click("#continue")
    watch.wait_for_function(f"location.hash.startsWith('#game=') && location.hash !== '#game={game_id}'")
    wait_for_plies(watch, 2)
    fork_id = watch.evaluate("location.hash.slice(6)")
    assert watch.is_hidden("#continue") and not watch.is_disabled("#resign")
    watch.click("[data-square='h0']")
    watch.click("[data-target='g2']")
    wait_for_plies(watch, 4)
    fork = httpx.get(f"{base_url}/api/games/{fork_id}").json()
    assert [m["iccs"] for m in fork["moves"]][:3] == [m["iccs"] for m in before["moves"]] + ["h0g2"]
    other_secret = watch.evaluate("localStorage.getItem('xqgpt.secret')")
    assert other_secret and other_secret != secret
    assert listed(base_url, other_secret) == [fork_id] and listed(base_url, secret) == [game_id]
    assert httpx.get(f"{base_url}/api/games/{game_id}").json() == before

    # The first browser still plays its game, and lists only it.
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("location.hash") == f"#game={game_id}"
    assert page.get_attribute("#games li.current", "data-id") == game_id
    assert page.locator("#games li").count() == 1
    assert errors == other_errors == watch_errors == []
    first.close()
    second.close()
