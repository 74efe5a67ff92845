"""The Explorer pane in headless Chromium against a live server with the real model: the games'
moves of the shown position with their counts, result bars and the model's probabilities, in the
chosen notation and language; a click on a move plays it (and the model replies)."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, browser, open_board, serve_app, wait_for_plies  # noqa: F401

from data.explorer import SHIPPED_INDEX
from data.explorer_build import build_index
from server import create_app

pytestmark = pytest.mark.browser
DOCS = ARTIFACTS.parent / "docs"


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory, wxf15_paths) -> str:
    out = tmp_path_factory.mktemp("explorer") / "wxf15.sqlite"
    build_index([str(wxf15_paths["iccs"])], str(out), min_games=1, workers=1)
    return str(out)


def serve(policy, db: str, index: str):
    return serve_app(create_app(policy, f"sqlite:///{db}", explorer=index))


@pytest.fixture
def base_url(browser, shipped_policy, tmp_path, fixture_index):  # noqa: F811
    server, thread, url = serve(shipped_policy, str(tmp_path / "games.db"), fixture_index)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def row(page, move: str):
    return page.locator(f"#explorer-moves tr[data-move='{move}']")


def test_a_click_in_the_explorer_plays_the_move(browser, base_url):  # noqa: F811
    page, errors = open_board(browser, base_url)
    page.select_option("#language", "en")
    page.wait_for_selector("#explorer-moves tr[data-move='h2e2']")
    h2e2 = row(page, "h2e2")
    assert h2e2.locator(".xp-count").text_content() == "10"
    assert h2e2.locator(".xp-p").text_content().endswith("%")  # the model's probability beside the count
    assert page.locator("#explorer-summary").text_content() == "15 games"
    assert page.locator("#explorer-moves th").all_text_contents() == ["Move", "Games", "Results", "Model"]
    # The moves in the chosen notation: Chinese by default, then WXF
    assert h2e2.locator(".xp-move").text_content() == "炮二平五"
    page.check("input[name='notation'][value='wxf']")
    assert h2e2.locator(".xp-move").text_content() == "C2=5"
    # Moves no game played but the model likes are listed after, with no count
    assert page.locator("#explorer-moves tr.xp-model").count() == 3
    assert page.locator("#explorer-moves tr.xp-model .xp-count").first.text_content() == "–"
    # An example game opens in the analysis view
    assert page.locator("#explorer-games li").count() == 3
    page.locator("#explorer-games .xp-open").first.click()
    page.wait_for_selector("#analysis-view:not([hidden])")
    page.wait_for_function("document.querySelectorAll('#an-moves .mv').length > 10", timeout=120_000)
    page.click("#an-close")
    # A click plays the move; the model answers; the explorer follows to the new position
    h2e2.locator(".xp-move").click()
    wait_for_plies(page, 2)
    assert page.locator("#moves .mv").first.text_content() == "C2=5"
    page.wait_for_function("document.querySelector('#explorer').dataset.state === 'ready'"
                           " && !document.querySelector(\"#explorer-moves tr[data-move='h2e2']\")")
    # In Chinese the pane speaks Chinese
    page.select_option("#language", "zh-Hans")
    assert page.locator("#explorer-h").text_content() == "开局库"
    assert page.locator("#explorer-moves th").first.text_content() == "走子"
    assert errors == []


@pytest.mark.skipif(not SHIPPED_INDEX.is_file(), reason="the shipped explorer index is not built")
def test_explorer_screenshot(browser, shipped_policy, tmp_path):  # noqa: F811
    """The pane on the shipped index after 炮二平五 马８进７, saved for docs/explorer.md."""
    server, thread, url = serve(shipped_policy, str(tmp_path / "games.db"), str(SHIPPED_INDEX))
    try:
        page, errors = open_board(browser, url, width=1100, height=1000)
        page.select_option("#language", "zh-Hans")
        page.wait_for_selector("#explorer-moves tr[data-move='h2e2']")
        assert int(row(page, "h2e2").locator(".xp-count").text_content()) > 10_000
        assert row(page, "h2e2").locator(".xp-red").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)
        assert errors == []
    finally:
        server.should_exit = True
        thread.join(timeout=10)
