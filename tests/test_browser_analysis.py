"""Analysis on the web board in headless Chromium against a live server with the shipped model and
value net: the evaluation bar moves after a blunder, the hint shows a legal move, and a pasted PGN
opens in the analysis view with an evaluation graph and its blunder marked. Screenshots go to
test-artifacts/ (analysis-view.png is docs/analysis.png). Few nodes: the machine is small."""

from __future__ import annotations

import httpx
import pytest
from test_browser import ARTIFACTS, base_url, browser, open_board, wait_for_plies  # noqa: F401 (fixtures)

from xiangqi import Move
from xiangqi.pgn import Game, read_pgn_file, write_game

pytestmark = pytest.mark.browser

LONG = 900_000  # ms: a review of 21 positions on 2 shared cores


@pytest.fixture(scope="module")
def blunder_game(wxf15_paths) -> tuple[Game, Move]:
    """The first 18 plies of fixture game 7, Red to move; f0e1 there lets Black mate with c3c0."""
    game = read_pgn_file(str(wxf15_paths["iccs"]))[7]
    opening = Game(headers={"Event": "Blunder review"}, fen=game.fen, moves=game.moves[:18])
    board = opening.end_board()
    blunder, mate = Move.from_uci("f0e1"), Move.from_uci("c3c0")
    board.push(blunder)
    board.push(mate)
    assert board.is_checkmate()
    return opening, blunder


def bar(page, plies: int) -> float:
    """Red's share of the evaluation bar once the position after ``plies`` plies is evaluated."""
    page.wait_for_function(f"document.querySelector('#eval-bar').dataset.plies === '{plies}'"
                           " && document.querySelector('#engine').dataset.state === 'ready'", timeout=LONG)
    return float(page.get_attribute("#eval-bar", "data-red"))


def test_bar_moves_after_a_blunder_and_the_hint_is_legal(browser, base_url, blunder_game):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_board(browser, base_url)
    assert 0.2 < bar(page, 0) < 0.8  # the start is about even
    page.click("#hint")
    hint = page.get_attribute("#hint-text", "data-move")
    assert hint in httpx.get(f"{base_url}/api/legal").json()["moves"]
    assert page.locator(".arrows *").count() > 0

    opening, blunder = blunder_game
    page.fill("#pgn-text", write_game(opening, "chinese"))
    page.click("#import")
    wait_for_plies(page, 18)
    before = bar(page, 18)
    page.click(f"[data-square='{blunder.uci()[:2]}']")
    page.click(f"[data-target='{blunder.uci()[2:]}']")
    wait_for_plies(page, 20)
    after = bar(page, 20)
    assert after < before - 0.1 and after < 0.1, (before, after)  # Black mates (or is about to)
    page.screenshot(path=str(ARTIFACTS / "board-eval-bar.png"))
    assert not errors


def test_pasted_pgn_opens_in_the_analysis_view(browser, base_url, blunder_game):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    opening, blunder = blunder_game
    game = Game(headers=opening.headers, fen=opening.fen,
                moves=[*opening.moves, blunder, Move.from_uci("c3c0")], result="0-1")
    page, errors = open_board(browser, base_url)
    page.uncheck("#show-eval")  # the review alone on the machine
    page.click("#open-analysis")
    page.fill("#an-input", write_game(game, "chinese"))
    page.select_option("#an-nodes", "16")
    page.click("#an-open")
    page.wait_for_selector("#analysis-view[data-done='1']", timeout=LONG)

    points = page.get_attribute("#an-graph .curve", "points").split()
    assert len(points) == len(game.moves) + 1
    blunders = page.eval_on_selector_all("#an-moves .mv.blunder", "els => els.map(e => e.dataset.ply)")
    assert str(len(game.moves) - 1) in blunders  # f0e1, then mated
    assert page.text_content(f"#an-moves [data-ply='{len(game.moves) - 1}']").endswith("??")
    judged = page.locator("#an-moves .mv.inaccuracy, #an-moves .mv.mistake, #an-moves .mv.blunder").count()
    assert page.locator("#an-graph .mark").count() == judged
    assert "#" not in page.text_content("#an-score")  # the finished game: its result, not a score

    page.click("#an-first")
    assert page.locator("#an-board .pieces .piece").count() == 32
    page.click(f"#an-moves [data-ply='{len(game.moves) - 1}']")
    assert page.text_content("#an-score").startswith("#")  # after the blunder: Black mates
    page.screenshot(path=str(ARTIFACTS / "analysis-view.png"))
    assert not errors
