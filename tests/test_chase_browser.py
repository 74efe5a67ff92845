"""The web board's game-over banner names the piece a perpetual chaser chased (headless Chromium)."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, base_url, browser, open_board  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

CHASE_PGN = ('[FEN "4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1"]\n[Format "ICCS"]\n\n'
             "1... a7b7 2. a5b5 b7a7 3. b5a5 a7b7 4. a5b5 b7a7 5. b5a5 0-1\n")


def test_banner_says_who_chased_what(browser, base_url) -> None:  # noqa: F811
    page, errors = open_board(browser, base_url)
    page.fill("#pgn-text", CHASE_PGN)
    page.click("#import")
    page.wait_for_selector("#banner:not([hidden])")
    assert page.inner_text("#banner-title") == "Perpetual chase"
    assert "Red loses by perpetually chasing the black cannon on a7" in page.inner_text("#banner-detail")
    page.screenshot(path=str(ARTIFACTS / "board-perpetual-chase-banner.png"))
    assert errors == []
    page.close()
