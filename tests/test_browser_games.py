"""The web board with real games, in headless Chromium at a desktop (1366×850) and a phone (390×844) size.

A 77-ply imported tournament game: every move of the list can be scrolled to and clicked, in the game
pane and in the analysis view, and shows its position; on a phone the board stays in view (on load
and after a move) and the evaluation bar is inside the page; the bar follows Flip; a CBL library
lists its games to open any of them; the words of a game's end, the saved list, the level picker,
resigning and the address bar. Screenshots (English and 中文, desktop and phone) go to test-artifacts/.
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
from conftest import FIXTURES
from test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    base_url,
    browser,
    open_board,
    saved_games,
    wait_for_plies,
)

from xiangqi import Board, Move, square_name

pytestmark = pytest.mark.browser

FORMATS = FIXTURES / "formats"
LONG_GAME = FORMATS / "shanghai-cup-2025-final.dhtmlxq.txt"  # 77 plies, Red wins
MASTER_GAME = FORMATS / "030-黄松轩先胜冯敬如.XQF"  # 37 plies, Red wins
LIBRARY = FORMATS / "1989年龙化杯象棋名师邀请赛35局.CBL"  # section titles and 30-odd games
DESKTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}
MATE_IN_ONE = "4k4/9/4P4/9/9/9/9/9/R8/3K5 w - - 0 1"  # a1a9 mates
TOP_RANK = (56 - 26) / 652  # the top of the pieces on rank 9, as a share of the board's height


def drawn_pieces(page) -> set[str]:
    return set(page.eval_on_selector_all("#board .pieces .piece", "els => els.map(e => e.dataset.square)"))


def pieces_of(board: Board) -> set[str]:
    return {square_name(sq) for sq, _ in board.squares()}


def import_file(page, path) -> None:
    """Open a record file with the page's file picker and wait until its game is shown."""
    before = page.evaluate("location.hash")
    page.set_input_files("#pgn-file", str(path))
    page.wait_for_function(f"location.hash !== {before!r}")  # the last step of showing a game


def scroll_to_and_click(page, list_selector: str, ply: int) -> None:
    """Scroll the list with the mouse wheel (as a reader would) until move ``ply`` is inside its box,
    check that the move is what a click there hits, and click it."""
    span = f"{list_selector} .mv[data-ply='{ply}']"
    box = page.locator(list_selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(100):
        inside = page.evaluate("""([list, span]) => {
            const l = document.querySelector(list).getBoundingClientRect();
            const s = document.querySelector(span).getBoundingClientRect();
            return s.top < l.top ? -1 : s.bottom > l.bottom ? 1 : 0;
        }""", [list_selector, span])
        if inside == 0:
            break
        page.mouse.wheel(0, 40 * inside)
        page.wait_for_timeout(20)
    hit = page.evaluate("""([list, span]) => {
        const l = document.querySelector(list).getBoundingClientRect();
        const s = document.querySelector(span).getBoundingClientRect();
        const inside = s.left >= l.left && s.right <= l.right + 1
            && s.top >= l.top && s.bottom <= l.bottom + 1;
        const at = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
        return inside && at === document.querySelector(span);
    }""", [list_selector, span])
    assert hit, f"move {ply} of {list_selector} cannot be scrolled to and clicked"
    page.click(span)


def test_every_move_of_a_77_ply_game_is_in_the_list(browser, base_url):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_board(browser, base_url, **DESKTOP)
    page.uncheck("#show-eval")  # 77 positions shown one after another: no evaluation for each
    import_file(page, LONG_GAME)
    page.wait_for_selector("#banner:not([hidden])")
    game = httpx.get(f"{base_url}/api/games/{page.evaluate('location.hash.slice(6)')}").json()
    assert len(game["moves"]) == 77 and page.locator("#moves .mv[data-ply]").count() == 77
    assert page.evaluate("(l => l.scrollWidth <= l.clientWidth)(document.querySelector('#moves'))")
    page.click("#banner-close")

    # The record's own players, event and date; who won said once, with no model in it.
    page.click("#games li button")
    page.wait_for_selector("#banner:not([hidden])")
    record = "成都 孟辰 – 江苏 刘柏宏 · 2025年第五届上海杯象棋大师公开赛 · 2025-09-27"
    assert page.inner_text("#banner-detail") == f"Red wins (1-0) · {record}"
    assert page.inner_text("#games li span") == f"{record} · 39 moves · 1-0 Game over"
    page.click("#banner-close")
    page.evaluate("window.scrollTo(0, 0)")  # (the click on the saved list scrolled the page)
    page.screenshot(path=str(ARTIFACTS / "long-game-desktop-en.png"))

    # Every move, from the first: scrolled to, clicked, its position on the board.
    board = Board(game["start_fen"])
    for ply in range(1, 78):
        board.push(Move.from_uci(game["moves"][ply - 1]["iccs"]))
        scroll_to_and_click(page, "#moves", ply)
        assert page.get_attribute("#moves .mv.last", "data-ply") == str(ply)
        assert drawn_pieces(page) == pieces_of(board), ply
        if ply == 30:
            assert page.inner_text("#status").startswith("After 15… ")
            assert page.locator(".marks .last-move").count() == 2
    assert "After" not in page.inner_text("#status")  # the last move is the game again
    # The keys ← and → step through the positions too, to the start and back to the game.
    page.focus("#refresh")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#status").startswith("After 38… ")
    for _ in range(80):
        page.keyboard.press("ArrowLeft")
    assert page.inner_text("#status").startswith("The start position")
    assert drawn_pieces(page) == pieces_of(Board(game["start_fen"]))
    for _ in range(77):
        page.keyboard.press("ArrowRight")
    assert "After" not in page.inner_text("#status") and drawn_pieces(page) == pieces_of(board)

    # The analysis view's list: every move too.
    page.eval_on_selector("#an-nodes", "s => { s.value = '16'; }")  # a quick review (the view is closed)
    page.click("#an-this-game")
    page.wait_for_function("document.querySelectorAll('#an-moves .mv').length === 77")
    for ply in [1, 13, 14, 27, 28, 50, 77, 2]:
        scroll_to_and_click(page, "#an-moves", ply)
        assert page.get_attribute("#an-moves .mv.last", "data-ply") == str(ply)
    assert page.evaluate("(l => l.scrollWidth <= l.clientWidth)(document.querySelector('#an-moves'))")
    page.click("#an-close")
    assert errors == []
    page.close()


def board_top_in_view(page) -> bool:
    box = page.locator("#board").bounding_box()
    return box["y"] + TOP_RANK * box["height"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_phone_keeps_the_board_and_the_evaluation_bar_in_view(browser, base_url):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    record = httpx.post(f"{base_url}/api/games/import", json={"pgn": LONG_GAME.read_text(encoding="utf-8")})
    game_id = record.json()["id"]

    # A long game opened on a phone: the page is not scrolled, the board's top rank is in view.
    page = browser.new_page(viewport=PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/#game={game_id}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 77")
    assert page.evaluate("window.scrollY") == 0 and board_top_in_view(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.close()

    # A game played on a phone: after each move the board is where it was.
    page, more_errors = open_board(browser, base_url, **PHONE)
    page.wait_for_selector("#engine[data-state='ready']", timeout=90_000)
    bar = page.locator("#eval-bar").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= PHONE["width"] and bar["height"] > 300
    for ply, (piece, target) in enumerate([("h2", "e2"), ("b0", "c2")]):
        page.click(f"[data-square='{piece}']")
        page.click(f"[data-target='{target}']")
        wait_for_plies(page, 2 * (ply + 1))
        assert page.evaluate("window.scrollY") == 0 and board_top_in_view(page), ply
    page.screenshot(path=str(ARTIFACTS / "phone-en.png"))
    page.select_option("#language", "zh-Hans")
    page.wait_for_function("document.documentElement.lang === 'zh-Hans'")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "phone-zh.png"))
    assert errors == more_errors == []
    page.close()


def bar_ends(page) -> tuple[bool, bool]:
    """Whether the evaluation bar's top and bottom ends are drawn red."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.locator("#eval-bar").screenshot())).convert("RGB")
    width, height = image.size
    red = [r > 120 and g < 90 and b < 90 for r, g, b in
           (image.getpixel((width // 2, y)) for y in (4, height - 5))]
    return red[0], red[1]


def test_the_evaluation_bar_follows_flip(browser, base_url):  # noqa: F811
    page, errors = open_board(browser, base_url, **DESKTOP)
    page.wait_for_selector("#engine[data-state='ready']", timeout=90_000)
    assert bar_ends(page) == (False, True)  # Red at the bottom of the board and of the bar
    page.click("#flip")
    assert bar_ends(page) == (True, False)
    assert page.get_attribute("#eval-bar", "aria-label") == "Evaluation bar: Red's share at the top"
    page.keyboard.press("f")
    assert bar_ends(page) == (False, True)
    assert errors == []
    page.close()


def test_a_cbl_library_lists_its_games_to_open_any(browser, base_url):  # noqa: F811
    from xiangqi.pgn import Game
    from xiangqi.records import read_any

    items = enumerate(read_any(LIBRARY.name, LIBRARY.read_bytes()))
    games = [(i, g) for i, g in items if isinstance(g, Game)]
    page, errors = open_board(browser, base_url, **DESKTOP)
    import_file(page, LIBRARY)
    page.wait_for_selector("#library:not([hidden])")
    assert len(games) > 30 and page.inner_text("#library-note") == f"{LIBRARY.name} holds {len(games)} games:"
    options = page.eval_on_selector_all("#library-games option",
                                        "os => os.map(o => [o.value, o.textContent])")
    assert [int(v) for v, _ in options] == [i for i, _ in games]
    assert options[4][1].startswith(f"5. {games[4][1].headers['Title']} · {games[4][1].result} · ")
    first = games[0][1].headers
    assert f"{first['Red']} – {first['Black']}" in page.inner_text("#banner-detail")

    page.select_option("#library-games", options[4][0])
    page.click("#library-open")
    fifth = games[4][1]
    page.wait_for_function(f"document.querySelectorAll('#moves .mv[data-ply]').length === {len(fifth.moves)}")
    assert f"{fifth.headers['Red']} – {fifth.headers['Black']}" in page.inner_text("#games li.current")
    saved = saved_games(page)
    assert [g["headers"]["Red"] for g in saved] == [fifth.headers["Red"], first["Red"]]
    assert page.input_value("#library-games") == options[4][0]
    page.screenshot(path=str(ARTIFACTS / "library-desktop-en.png"))
    assert errors == []
    page.close()


def test_the_words_of_a_game(browser, base_url):  # noqa: F811
    page, errors = open_board(browser, base_url, **DESKTOP)

    # The level picker: weakest first by the measured rating; the expert's time said once.
    labels = page.eval_on_selector_all("#level option", "os => os.map(o => o.textContent)")
    ratings = [int(m.group(1)) for m in (re.search(r"Elo (\d+)", s) for s in labels) if m]
    assert ratings == sorted(ratings) and len(ratings) >= 4, labels
    page.select_option("#level", "expert")
    help_text = page.inner_text("#level-help")
    assert help_text.count("1 s a move") == 1 and "thinks" not in help_text, help_text

    # While the model thinks, the status is not the last reply's.
    page.evaluate("""() => {
        window.statuses = [];
        const status = document.querySelector('#status');
        new MutationObserver(() => window.statuses.push(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }""")
    page.select_option("#level", "club")
    for ply, (piece, target) in enumerate([("h2", "e2"), ("b0", "c2")]):
        page.click(f"[data-square='{piece}']")
        page.click(f"[data-target='{target}']")
        wait_for_plies(page, 2 * (ply + 1))
    statuses = page.evaluate("window.statuses")
    assert "The model is thinking…" in statuses
    assert not [s for s in statuses if "thinking" in s and "played" in s], statuses

    # Resign asks for a second click; then the evaluation is the result.
    played = page.evaluate("location.hash.slice(6)")
    page.click("#resign")
    assert page.inner_text("#resign") == "Resign? Click again"
    assert httpx.get(f"{base_url}/api/games/{played}").json()["status"] == "playing"
    page.click("#resign")
    page.wait_for_selector("#banner:not([hidden])")
    assert page.inner_text("#banner-detail") == "The model wins (0-1)"
    page.wait_for_function("document.querySelector('#eval-score').textContent === '0-1'")
    assert page.get_attribute("#eval-bar", "data-red") == "0.000"
    label = page.inner_text("#games li.current span")
    assert re.fullmatch(r"Game \S+ · you Red · club · 2 moves · 0-1 Resignation", label), label

    # A checkmate played here: who won, once.
    page.goto(f"{base_url}/?fen={MATE_IN_ONE.replace(' ', '%20')}")
    page.wait_for_selector("body[data-ready='1']")
    page.click("[data-square='a1']")
    page.click("[data-target='a9']")
    page.wait_for_selector("#banner:not([hidden])")
    assert page.inner_text("#banner-title") == "Checkmate"
    assert page.inner_text("#banner-detail") == "You win (1-0)"
    mated = page.evaluate("location.hash")

    # An imported master game: the record's players, no "you" and no model; the address at once.
    import_file(page, MASTER_GAME)
    master = saved_games(page)[0]
    assert page.evaluate("location.hash") == f"#game={master['id']}"
    page.wait_for_selector("#banner:not([hidden])")
    detail = page.inner_text("#banner-detail")
    assert detail == "Red wins (1-0) · 黄松轩 – 冯敬如 · 20世纪30年代", detail
    label = page.inner_text("#games li.current span")
    assert label == "黄松轩 – 冯敬如 · 20世纪30年代 · 19 moves · 1-0 Game over", label

    # #game= changed in the open tab opens that game.
    page.evaluate(f"location.hash = {mated!r}")
    page.wait_for_function("document.querySelectorAll('#moves .mv[data-ply]').length === 1")
    assert page.inner_text("#banner-detail") == "You win (1-0)"

    # An expert game reopened: the picker shows expert.
    page.select_option("#level", "expert")
    page.click("#new")
    page.wait_for_function(f"location.hash !== {mated!r}")
    page.select_option("#level", "beginner")  # a choice for the next game, not this one's level
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#level") == "expert"
    assert errors == []
    page.close()
