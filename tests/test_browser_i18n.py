"""The web board in 简体中文, 繁體中文 and English; record files dropped or picked; shared links; sounds.

Headless Chromium against a live server with the real model (fixtures from test_browser). The
language walk checks that no English word is left on the Chinese pages, titles and tooltips
included; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from conftest import FIXTURES
from test_browser import ARTIFACTS, base_url, browser  # noqa: F401 (fixtures)
from test_chase_browser import CHASE_PGN
from test_server import MATE_PGN

pytestmark = pytest.mark.browser

FORMATS = FIXTURES / "formats"
# Words that stay as they are in every language: names, formats, notations, the language's own name.
KEPT = {"Xiangqi", "GPT", "PGN", "FEN", "WXF", "ICCS", "XQF", "CBR", "CBL", "CBF", "DhtmlXQ", "PUCT", "Esc",
        "Enter", "English", "Fairy", "Stockfish", "Elo"}  # names: the engine the ratings are measured against
# Data of the imported games (their headers), not text of the page.
DATA = ["World Xiangqi Championships 1997", "LE Thien Vi", "BI BingJian"]


def open_page(browser, base_url, path="/", **options):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 900}, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url + path)
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def wait_idle(page) -> None:
    page.wait_for_function("document.querySelector('#status').textContent && "
                           "!document.querySelector('#status').textContent.match(/thinking|思考/)")


def page_words(page) -> list[str]:
    """Every Latin word a reader sees or hears: the text, tooltips, labels and the page title.
    Messages that come from the server (errors, in English everywhere) and the explorer's example
    games (players' names) are left out."""
    text = page.evaluate("""() => {
        const shown = (el) => !el.closest('[hidden]') && el.getClientRects().length > 0;
        const server = '#error, #an-error, #engine:not([data-state="ready"]) #best-line, '
            + '#explorer[data-state="error"] #explorer-summary, #explorer-games';
        const parts = [document.title];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (el && shown(el) && !el.closest(server)) parts.push(node.textContent);
        }
        for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
            if (el.closest('[hidden]')) continue;
            for (const a of ['title', 'aria-label', 'placeholder']) {
                if (el.hasAttribute(a)) parts.push(el.getAttribute(a));
            }
        }
        for (const o of document.querySelectorAll('option')) parts.push(o.textContent, o.title);
        return parts.join('\\n');
    }""")
    game_ids = page.eval_on_selector_all("#games li[data-id]", "lis => lis.map(li => li.dataset.id)")
    for data in DATA + game_ids:  # the games' public ids are letters too
        text = text.replace(data, "")
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in KEPT]


def switch(page, language: str) -> None:
    page.select_option("#language", language)
    page.wait_for_function(f"document.documentElement.lang === '{language}'")
    wait_idle(page)


def test_every_string_is_translated_and_the_language_is_remembered(browser, base_url):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, base_url)
    assert page.evaluate("document.documentElement.lang") == "en" and page.title() == "Xiangqi-GPT"
    # A finished game (banner, saved list), then a game in play with the model's candidates.
    page.fill("#pgn-text", CHASE_PGN)
    page.click("#import")
    page.wait_for_selector("#banner:not([hidden])")
    page.fill("#pgn-text", MATE_PGN)
    page.click("#import")
    # the banner still shows the first game: wait for the second (a page that is busy ignores clicks)
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Checkmate')")
    page.click("#new")
    # the new game is shown last, when the page takes keys again (the finished game's status
    # is not "thinking", so waiting for idle alone may press the keys on the old game)
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 0")
    wait_idle(page)
    page.focus("#board")  # C2=5 by keyboard, from the cursor on e0
    for keys, square in [(["ArrowRight"] * 3 + ["ArrowUp"] * 2, "h2"), (["Enter"] + ["ArrowLeft"] * 3, "e2")]:
        for key in keys:
            page.keyboard.press(key)
        # the board names the cursor's square (as a screen reader hears it) before the next key
        page.wait_for_function(f"document.activeElement.getAttribute('aria-label').startsWith('{square}:')")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 2")
    wait_idle(page)
    english = page_words(page)
    assert {"Saved", "games", "Undo", "Moves", "Share", "Sounds"} <= set(english)

    for language, title, words in [
            ("zh-Hans", "Xiangqi-GPT · 象棋对弈", ["已存对局", "悔棋", "轮到你走（红方）"]),
            ("zh-Hant", "Xiangqi-GPT · 象棋對弈", ["已存對局", "悔棋", "輪到你走（紅方）"])]:
        switch(page, language)
        assert page.title() == title
        body = page.inner_text("body")
        assert all(w in body for w in words), body
        assert page_words(page) == [], (language, page.inner_text("body"))
        # The evaluation, best line and hint (when the analysis answers).
        page.wait_for_selector("#engine[data-state='ready'], #engine[data-state='error']", timeout=90_000)
        if page.get_attribute("#engine", "data-state") == "ready":
            page.click("#hint")
            assert page.inner_text("#hint-text").startswith("提示："), page.inner_text("#engine")
            assert page_words(page) == [], (language, page.inner_text("body"))
        page.focus("#board")
        page.keyboard.press("ArrowDown")  # the cursor says what stands on its square
        label = page.get_attribute("#board", "aria-label")
        assert re.fullmatch(r"[a-i]\d: (空|[红紅黑][帅帥仕相马馬车車炮兵将將士象卒])", label), label
        assert page_words(page) == [], language
        page.screenshot(path=str(ARTIFACTS / f"board-{language}.png"), full_page=True)
        page.click("#open-analysis")  # the analysis view's own words
        assert page.is_visible("#analysis-view")
        assert page_words(page) == [], (language, page.inner_text("#analysis-view"))
        page.click("#an-close")
        # The banners of the finished games speak the language too.
        page.click("#games li:nth-child(3) button")  # the perpetual chase, imported first
        page.wait_for_selector("#banner:not([hidden])")
        assert page_words(page) == [], language
        detail = page.inner_text("#banner-detail")
        chased = {"zh-Hans": "红方长捉黑炮（a7）判负", "zh-Hant": "紅方長捉黑炮（a7）判負"}[language]
        assert detail.startswith(chased), detail
        page.click("#games li:nth-child(1) button")
        page.wait_for_function("document.querySelectorAll('#moves .mv').length === 2")
        wait_idle(page)

    # 繁體 writes the moves in traditional characters, and the choice outlives a reload.
    assert page.inner_text("#moves .mv >> nth=0") == "炮二平五"
    page.click("#games li:nth-child(2) button")  # the checkmate game: 马/车 moves
    page.wait_for_selector("#banner:not([hidden])")
    moves = page.inner_text("#moves")
    assert "馬２進３" in moves and "車一平二" in moves and "马" not in moves
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert page.title() == "Xiangqi-GPT · 象棋對弈" and "已存對局" in page.inner_text("body")

    switch(page, "en")
    assert page.title() == "Xiangqi-GPT" and "Saved games" in page.inner_text("body")
    assert set(page_words(page)) >= {"Saved", "Undo", "Share"}
    assert errors == []
    page.context.close()


def test_notation_follows_the_language(browser, base_url):  # noqa: F811
    page, errors = open_page(browser, base_url, locale="zh-CN")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"  # the browser's language at first
    page.fill("#pgn-text", MATE_PGN)
    page.click("#import")
    page.wait_for_selector("#banner:not([hidden])")
    first = page.locator("#moves .mv").nth(0)
    assert first.inner_text() == "炮二平五"
    page.check("input[name='notation'][value='wxf']")
    assert first.inner_text() == "C2=5"
    switch(page, "en")
    assert first.inner_text() == "C2=5"  # English keeps the chosen notation
    switch(page, "zh-Hant")
    assert first.inner_text() == "炮二平五"  # a Chinese page writes Chinese
    page.check("input[name='notation'][value='iccs']")
    assert first.inner_text() == "h2e2"
    assert errors == []
    page.context.close()


def drop_file(page, name: str) -> None:
    """Drag a fixture file over the page and drop it, as from a file manager."""
    data = base64.b64encode((FORMATS / name).read_bytes()).decode()
    page.evaluate("""([name, data]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name));
        const fire = (type, target) => target.dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        fire('dragenter', document.querySelector('#board'));
        window.__hintShown = !document.querySelector('#drop-hint').hidden;
        fire('dragover', document.querySelector('#board'));
        fire('drop', document.querySelector('#board'));
    }""", [name, data])


def test_import_by_picking_and_dropping_record_files(browser, base_url):  # noqa: F811
    if not FORMATS.is_dir():
        pytest.skip(f"format fixtures not found: {FORMATS}")
    page, errors = open_page(browser, base_url)
    page.set_input_files("#pgn-file", str(FORMATS / "test.xqf"))
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 110")
    page.wait_for_selector("#games li")
    assert '"中立杯"象棋电视快棋赛' in page.inner_text("#games")
    assert "Imported test.xqf" in page.inner_text("#status")

    drop_file(page, "test.cbr")
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 28")
    assert page.evaluate("window.__hintShown") and page.is_hidden("#drop-hint")
    game = httpx.get(f"{base_url}/api/games/{page.evaluate('location.hash.slice(6)')}").json()
    assert game["moves"][0]["iccs"] == "h2e2" and len(game["moves"]) == 28

    drop_file(page, "shanghai-cup-2025-final.dhtmlxq.txt")
    page.wait_for_function("document.querySelectorAll('#games li').length === 3")
    assert page.locator("#moves .mv").count() == 77
    assert "2025年第五届上海杯象棋大师公开赛" in page.inner_text("#games")

    # A bad file: the reader's reason, and the game on the board stays.
    drop_file(page, "BadMoveTest3.xqf")
    page.wait_for_selector("#error:not([hidden])")
    assert "ply 10" in page.inner_text("#error") and "illegal" in page.inner_text("#error")
    assert page.locator("#moves .mv").count() == 77
    page.screenshot(path=str(ARTIFACTS / "board-imported-dhtmlxq.png"))
    assert errors == []
    page.context.close()


def test_game_and_position_links_open_the_board_there(browser, base_url):  # noqa: F811
    page, errors = open_page(browser, base_url, permissions=["clipboard-read", "clipboard-write"])
    page.fill("#pgn-text", MATE_PGN)
    page.click("#import")
    page.wait_for_selector("#banner:not([hidden])")
    game_id = page.evaluate("location.hash.slice(6)")
    page.click("#copy-game-link")
    page.wait_for_selector("#link:not([hidden])")
    link = page.input_value("#link")
    assert link == f"{base_url}/#game={game_id}"
    assert page.evaluate("navigator.clipboard.readText()") == link

    # The game's final position as a link.
    fen = httpx.get(f"{base_url}/api/games/{game_id}").json()["fen"]
    page.click("#copy-position-link")
    page.wait_for_function("document.querySelector('#link').value.includes('?fen=')")
    position_link = page.input_value("#link")
    assert position_link == f"{base_url}/?fen=" + fen.replace(" ", "%20").replace("/", "%2F")

    other, other_errors = open_page(browser, base_url, path=link[len(base_url):])
    assert other.locator("#moves .mv").count() == 43 and other.is_visible("#banner")
    other.context.close()

    # A position with a capture for Red: the link opens it, the first move saves it as a new game.
    start = "4k4/9/9/9/p8/9/9/9/9/R2K5 w - - 0 1"
    games_before = httpx.get(f"{base_url}/api/games").json()["total"]
    other, other_errors = open_page(browser, base_url, path="/?fen=" + start.replace(" ", "%20"))
    assert other.locator(".pieces .piece").count() == 4
    assert httpx.get(f"{base_url}/api/games").json()["total"] == games_before
    other.click("[data-square='a0']")
    other.click("[data-square='a5']")
    other.wait_for_function("document.querySelectorAll('#moves .mv:not(:empty)').length === 2")
    assert other.evaluate("location.search") == "" and other.evaluate("location.hash").startswith("#game=")
    saved = httpx.get(f"{base_url}/api/games/{other.evaluate('location.hash.slice(6)')}").json()
    assert saved["start_fen"] == start and saved["moves"][0]["iccs"] == "a0a5"
    assert errors == [] and other_errors == []
    other.context.close()
    page.context.close()


def test_sounds_are_off_by_default_and_each_can_be_switched_on(browser, base_url):  # noqa: F811
    capture = "/?fen=" + "4k4/9/9/9/p8/9/9/9/9/R2K5 w - - 0 1".replace(" ", "%20")
    page, errors = open_page(browser, base_url, path=capture)
    assert [page.is_checked(f"#sound-{s}") for s in ("move", "capture", "check")] == [False] * 3
    page.click("[data-square='a0']")
    page.click("[data-square='a5']")
    page.wait_for_function("document.querySelectorAll('#moves .mv:not(:empty)').length === 2")
    assert page.evaluate("document.body.dataset.sound") is None  # all off: nothing played

    page.check("#sound-capture")
    page.check("#sound-move")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.is_checked("#sound-capture") and page.is_checked("#sound-move")  # remembered
    assert not page.is_checked("#sound-check")
    page.click("#new")
    wait_idle(page)
    page.click("[data-square='h2']")
    page.click("[data-target='e2']")
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 2")
    assert page.evaluate("document.body.dataset.sound") == "move"
    # Which sound a position calls for: check first, then a capture (fewer pieces), else a move.
    kinds = page.evaluate("""async () => {
        const { soundFor } = await import('/sound.js');
        const start = 'rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w';
        const took = 'rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABN1 w';
        return [soundFor(start, { fen: took, in_check: false }),
                soundFor(start, { fen: start, in_check: true }),
                soundFor(start, { fen: start, in_check: false })];
    }""")
    assert kinds == ["capture", "check", "move"]
    assert errors == []
    page.context.close()


def test_plurals_and_chinese_punctuation(browser, base_url):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, base_url)
    words = page.evaluate("""async () => {
        const i18n = await import('/i18n.js');
        const counted = (n) => [i18n.tn(n, '{n} mistake', '{n} mistakes'),
                                i18n.tn(n, '{n} inaccuracy', '{n} inaccuracies'),
                                i18n.tn(n, '{n} move', '{n} moves')];
        const out = { en: [0, 1, 2].map(counted), enList: i18n.joined(['a', 'b']),
                      enSemi: i18n.joined(['a', 'b'], ';') };
        i18n.setLanguage('zh-Hans');
        Object.assign(out, { zh: [1, 2].map(counted), zhList: i18n.joined(['0 欠佳', '0 错着']),
                             zhSemi: i18n.joined(['甲', '乙'], ';') });
        i18n.setLanguage('en');
        return out;
    }""")
    assert words["en"] == [["0 mistakes", "0 inaccuracies", "0 moves"],
                           ["1 mistake", "1 inaccuracy", "1 move"],
                           ["2 mistakes", "2 inaccuracies", "2 moves"]]
    assert words["enList"] == "a, b" and words["enSemi"] == "a; b"
    assert words["zh"] == [["1 错着", "1 欠佳", "1 回合"], ["2 错着", "2 欠佳", "2 回合"]]
    assert words["zhList"] == "0 欠佳，0 错着" and words["zhSemi"] == "甲；乙"

    # A review's summary in English: each count agrees with its noun.
    page.click("#open-analysis")
    page.fill("#an-input", "1. 炮二平五 马８进７ 2. 马二进三 车９平８ 3. 车一平二 马２进３")
    page.select_option("#an-nodes", "16")
    page.click("#an-open")
    page.wait_for_selector("#analysis-view[data-done='1']", timeout=120_000)
    summary = page.inner_text("#an-progress")
    counts = re.findall(r"(\d+) (inaccurac(?:y|ies)|mistakes?|blunders?)", summary)
    assert len(counts) == 6 and summary.startswith("Red: "), summary
    assert all((n == "1") == (noun in ("inaccuracy", "mistake", "blunder")) for n, noun in counts), summary
    # ... and in Chinese, with full-width commas.
    switch(page, "zh-Hans")
    summary = page.inner_text("#an-progress")
    side = r"\d+ 存疑，\d+ 欠佳，\d+ 错着，\d+ 败着"
    assert re.fullmatch(f"红方：{side} · 黑方：{side}", summary), summary
    page.click("#an-close")

    # The level picker's tooltips: a Chinese sentence takes ；, and says the time once.
    titles = page.eval_on_selector_all("#level option", "os => os.map(o => o.title)")
    assert any("；" in title for title in titles), titles
    assert not any(re.search("[;,]", title) for title in titles), titles
    expert = page.eval_on_selector("#level option[value='expert']", "o => o.title")
    assert expert.count("每步最多") == 1, expert
    # The saved list counts moves (回合), not plies.
    page.click("#new")
    wait_idle(page)
    page.click("[data-square='h2']")
    page.click("[data-target='e2']")
    page.wait_for_function("document.querySelectorAll('#moves .mv').length === 2")
    wait_idle(page)
    listed = page.inner_text("#games")
    assert re.search(r"· 1 回合 · 进行中", listed) and "步" not in listed, listed
    page.screenshot(path=str(ARTIFACTS / "desktop-zh.png"))
    assert errors == []
    page.context.close()
