"""The Puzzles mode in headless Chromium against a live server with the shipped puzzle set: one
puzzle solved by clicks (the defender answers from the line; the rating goes up), the next failed
by a wrong move (marked; the defender's answer from the search shown on the board; the rating goes
down)."""

from __future__ import annotations

import httpx
import pytest
from test_browser import ARTIFACTS, browser, open_board  # noqa: F401
from test_browser_explorer import serve

from data.puzzles import SHIPPED_PUZZLES
from xiangqi import Board, Move

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not SHIPPED_PUZZLES.is_file(), reason="the shipped puzzle set is not built")]


@pytest.fixture
def base_url(browser, shipped_policy, tmp_path):  # noqa: F811
    server, thread, url = serve(shipped_policy, str(tmp_path / "games.db"), None)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def play(page, move: str) -> None:
    page.click(f"#pz-board [data-square='{move[:2]}']")
    page.click(f"#pz-board [data-target='{move[2:]}']", force=True)  # a capture's dot lies under the piece


def wait_for_puzzle(page, other: str = "") -> str:
    """The id of the puzzle shown, once it is another than ``other``."""
    page.wait_for_function("(() => { const v = document.querySelector('#puzzle-view');"
                           f" return v.dataset.state === 'playing' && v.dataset.puzzle !== {other!r}"
                           " && document.querySelector('#pz-status').textContent.includes('mate in'); })()")
    return page.get_attribute("#puzzle-view", "data-puzzle")


def rating(page) -> int:
    return int(page.locator("#pz-status").text_content().split("→")[1].split()[0])


def test_a_puzzle_solved_and_one_failed_move_the_rating(browser, base_url):  # noqa: F811
    page, errors = open_board(browser, base_url)
    page.select_option("#language", "en")
    page.click("#pz-start")
    first = wait_for_puzzle(page)
    line = httpx.get(f"{base_url}/api/puzzles/{first}").json()["moves"]
    for ply in range(0, len(line), 2):
        page.wait_for_selector(f"#puzzle-view[data-ply='{ply}']")  # the defender has answered
        play(page, line[ply])
    page.wait_for_selector("#puzzle-view[data-state='solved']")
    page.wait_for_function("document.querySelector('#pz-status').textContent.includes('→')")
    assert "Solved!" in page.locator("#pz-status").text_content()
    after_win = rating(page)
    assert after_win > 1500
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "puzzles.png"))
    page.click("#pz-next")
    second = wait_for_puzzle(page, first)
    page.wait_for_selector("#puzzle-view[data-ply='0']")
    puzzle = httpx.get(f"{base_url}/api/puzzles/{second}").json()
    legal = httpx.get(f"{base_url}/api/legal", params={"fen": puzzle["fen"]}).json()["moves"]
    wrong = next(m for m in legal if m != puzzle["moves"][0])
    play(page, wrong)
    page.wait_for_selector("#puzzle-view[data-state='wrong']")
    page.wait_for_function("document.querySelector('#pz-status').textContent.includes('→')")
    assert "Wrong move." in page.locator("#pz-status").text_content()
    after = Board(puzzle["fen"])
    after.push_uci(wrong)
    answer = page.get_attribute("#puzzle-view", "data-answer")
    assert after.is_legal(Move.from_uci(answer)), answer  # the defender's reply from the search
    # the board shows it: the answering piece has left its square for the other
    assert page.locator(f"#pz-board [data-square='{answer[:2]}']").count() == 0
    assert page.locator(f"#pz-board [data-square='{answer[2:]}']").count() == 1
    assert rating(page) < after_win
    assert errors == []
