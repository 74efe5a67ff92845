"""The XQF, CBR, CBL, CBF and DhtmlXQ readers on the fixture files of ../shared/data/fixtures/formats
(expected.jsonl: what the PyPI reader cchess makes of each) and the 13,900-file XQF archive."""

from __future__ import annotations

import json
import os
import random
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from data.dataset import check
from xiangqi import Board
from xiangqi.pgn import Game, Line, PgnError, read_games, write_game
from xiangqi.records import is_record_name, read_any
from xiangqi.xqf import TEXT_FIELDS, read_xqf, write_xqf

SHARED = Path(os.environ.get("XQGPT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FORMATS = SHARED / "data" / "fixtures" / "formats"
ARCHIVE = SHARED / "data" / "xqf-endgames.tar.gz"
EXPECTED = ([json.loads(line) for line in (FORMATS / "expected.jsonl").open(encoding="utf-8")]
            if (FORMATS / "expected.jsonl").is_file() else [])
SINGLE = [r for r in EXPECTED if "games" not in r]
# Files cchess reads by skipping a move that is not legal; we reject them with the reason.
REJECTED = {"BadMoveTest3.xqf": ("illegal move", 10, "e1f0"),
            "WildHouse.xqf": ("illegal move in a variation", 74, "e7f7")}
HEADER_NAMES = {"red": "Red", "black": "Black", "title": "Title", "event": "Event"}

pytestmark = pytest.mark.skipif(not EXPECTED, reason=f"no fixtures at {FORMATS}")


def read(name: str) -> list[Game | PgnError]:
    return list(read_any(name, (FORMATS / name).read_bytes()))


def lines(line: Game | Line) -> int:
    """How many lines (main line and variations, nested ones too) end in the tree."""
    return 1 + sum(lines(v) for v in line.variations)


def replay_lines(fen: str, line: Game | Line, board: Board | None = None) -> int:
    """Play every line of the tree on a board (each move must be legal); count the moves."""
    board = board or Board(fen)
    n = 0
    for i, move in enumerate(line.moves):
        for variation in (v for v in line.variations if v.ply == i):
            n += replay_lines(fen, variation, board.copy())
        assert board.is_legal(move)
        board.push(move)
        n += 1
    return n


@pytest.mark.parametrize("rec", SINGLE, ids=[r["file"] for r in SINGLE])
def test_fixture_files_as_cchess_reads_them(rec):
    (game,) = read(rec["file"])
    if rec["file"] in REJECTED:
        kind, ply, text = REJECTED[rec["file"]]
        assert isinstance(game, PgnError)
        assert (game.kind, game.ply, game.text) == (kind, ply, text)
        return
    assert isinstance(game, Game), str(game)
    assert [m.uci() for m in game.moves] == rec["mainline_iccs"]
    assert game.fen.split()[:2] == rec["fen"].split()[:2]
    assert lines(game) == max(rec["branches"], 1)
    replay_lines(game.fen, game)
    info = rec["info"]
    if info.get("result"):
        assert game.result == info["result"]
    for key, header in HEADER_NAMES.items():
        if info.get(key):
            assert game.headers[header] == info[key]


def test_xqf_variations_and_comments():
    (game,) = read("game_varations.xqf")
    assert [m.uci() for m in game.moves] == ["h2e2", "h7e7", "h0g2", "h9g7", "i0h0", "i9i8",
                                             "b0c2", "b9c7"]
    # Five alternatives; each starts from a position of the main line or of another variation.
    assert sum(lines(v) for v in game.variations) == 5
    assert all(0 <= v.ply < len(game.moves) for v in game.variations)
    (game,) = read("test.cbr")
    assert game.comments[11] == "不急用平车压马，黑有炮8平9，马3退5变化。"
    assert lines(game) == 12
    (game,) = read("test2.cbr")
    assert game.comments == {0: "李1", 1: "李2", 2: "李3"}


def test_pgn_export_keeps_variations_and_comments():
    (game,) = read("UnitTest.xqf")
    text = write_game(game)
    body = text[text.index("\n\n") + 2:].replace("\n", " ")
    assert body.startswith("{棋局注解} 1. 炮二平五 {第一步红注解} (1. 炮八平五 马２进３ 2. 马八进七")
    assert "(1. 炮二平六 马８进７" in body and "1... 马８进７ 2. 马二进三 车９平８ {第二步黑注解}" in body
    iccs = write_game(game, "iccs")
    assert "(1. b2e2 b9c7 2. b0c2 a9b9 3. a0b0 b7b3)" in iccs.replace("\n", " ")
    for exported in (text, iccs):
        (again,) = read_games(exported)
        assert again.moves == game.moves and again.fen == game.fen


def test_xqf_export_round_trips_every_fixture_game():
    xqf_headers = {name for _, name in TEXT_FIELDS} | {"Result"}
    games = [g for p in sorted(FORMATS.iterdir()) if is_record_name(p.name)
             for g in read(p.name) if isinstance(g, Game)]
    assert len(games) == 153
    for game in games:
        again = read_xqf(write_xqf(game))
        assert (again.fen, again.moves, again.variations, again.comments, again.result) == \
            (game.fen, game.moves, game.variations, game.comments, game.result)
        assert again.headers == {k: v for k, v in game.headers.items() if k in xqf_headers}


def test_pgn_reader_keeps_variations_and_comments():
    (game,) = read("UnitTest.xqf")
    (again,) = read_games(write_game(game))
    assert (again.moves, again.variations, again.comments) == \
        (game.moves, game.variations, game.comments)
    (nested,) = read_games("; before\n1. h2e2 h9g7 (1... b7e7 (1... h7e7 {same}) 2. h0g2) "
                           "2. h0g2 {a} {b} ()\n")
    assert nested.comments == {0: "before", 3: "a\nb"}
    (v,) = nested.variations
    assert (v.ply, [m.uci() for m in v.moves]) == (1, ["b7e7", "h0g2"])
    assert [(w.ply, [m.uci() for m in w.moves], w.comments) for w in v.variations] == \
        [(0, ["h7e7"], {1: "same"})]
    (error,) = read_games("1. h2e2 h9g7 (1... h9h0) 2. h0g2\n")
    assert (error.kind, error.ply, error.text) == ("illegal move in a variation", 2, "h9h0")
    (error,) = read_games("1. h2e2 h9g7 2. h0g2 (2. b0c2 b9c7 (2... a9a8 3. xyz))\n")
    assert (error.kind, error.ply, error.text) == ("invalid move in a variation", 5, "xyz")


def test_cbf_comments_and_headers():
    (game,) = read("test.cbf")
    assert game.headers["Title"] == "第一局 屏风马巡河炮抵当头炮局(和)"
    assert game.comments[0] == "中炮横车盘头马对屏风马双炮巡河"
    assert game.comments[7].startswith("当对方布成屏风马后")
    (game,) = read("test2.cbf")
    assert game.result == "1/2-1/2" and len(game.moves) == 75


def test_cbl_libraries():
    games = read("1956年全国象棋锦标赛93局.CBL")
    assert len(games) == 93 and all(isinstance(g, Game) and g.moves for g in games)
    assert games[0].headers["Title"] == "初赛 保定邓裕如(红先负)哈尔滨王嘉良"
    assert len(games[0].moves) == 82
    games = read("1989年龙化杯象棋名师邀请赛35局.CBL")
    assert len(games) == 38  # as cchess counts them: 36 games and 2 section titles
    titles = [g for g in games if isinstance(g, PgnError)]
    assert [(t.game, t.kind) for t in titles] == [(0, "no game"), (21, "no game")]
    assert sum(isinstance(g, Game) and len(g.moves) > 0 for g in games) == 36


DHTMLXQ = "shanghai-cup-2025-final.dhtmlxq.txt"


def test_dhtmlxq_game():
    (game,) = read(DHTMLXQ)
    assert len(game.moves) == 77
    assert [m.uci() for m in game.moves[:4]] == ["h2e2", "h9g7", "h0g2", "i9h9"]
    assert game.result == "1-0"
    assert game.headers["Red"] == "成都 孟辰" and game.headers["Date"] == "2025-09-27"
    assert game.fen == Board().fen()


def test_dhtmlxq_page_with_two_games_in_gbk():
    text = (FORMATS / DHTMLXQ).read_text(encoding="utf-8")
    page = "<p>第一局</p>\n" + text.replace("DhtmlXQHTML", "DhtmlXQ") + "\n<p>第二局</p>\n" + \
        text.replace("DhtmlXQHTML", "DhtmlXQ").replace("2025-09-27", "2025-09-28")
    games = list(read_any("page.html", page.encode("gb18030")))
    assert [g.headers["Date"] for g in games] == ["2025-09-27", "2025-09-28"]
    assert all(len(g.moves) == 77 and g.headers["Red"] == "成都 孟辰" for g in games)


def test_dhtmlxq_variations_comments_and_binit():
    text = (FORMATS / DHTMLXQ).read_text(encoding="utf-8")
    # Black answers 1. h2e2 with b7e7 instead of h9g7; then Red plays h0g2 or g3g4.
    extra = ("[DhtmlXQ_move_0_2_1]12427967[/DhtmlXQ_move_0_2_1]\n"
             "[DhtmlXQ_move_1_3_2]6665[/DhtmlXQ_move_1_3_2]\n"
             "[DhtmlXQ_comment0]开局[/DhtmlXQ_comment0]\n"
             "[DhtmlXQ_comment2]马８进７||屏风马[/DhtmlXQ_comment2]\n"
             "[DhtmlXQ_comment1_3]跳马[/DhtmlXQ_comment1_3]\n")
    (game,) = read_any("x.dhtmlxq.txt", text.replace("[/DhtmlXQHTML]", extra + "[/DhtmlXQHTML]")
                       .encode())
    (v1,) = game.variations
    assert v1.ply == 1 and [m.uci() for m in v1.moves] == ["b7e7", "h0g2"]
    (v2,) = v1.variations
    assert v2.ply == 1 and [m.uci() for m in v2.moves] == ["g3g4"]
    assert game.comments == {0: "开局", 2: "马８进７\n屏风马"}
    assert v1.comments == {2: "跳马"}
    # A set-up position: the two generals and a red chariot giving check; Black moves first.
    setup = "41" + "99" * 3 + "49" + "99" * 11 + "99" * 4 + "40" + "99" * 11
    (game,) = read_any("y.ubb", f"[DhtmlXQ_binit]{setup}[/DhtmlXQ_binit]"
                                "[DhtmlXQ_movelist]4050[/DhtmlXQ_movelist]".encode())
    assert game.fen == "4k4/4R4/9/9/9/9/9/9/9/4K4 b - - 0 1"
    assert [m.uci() for m in game.moves] == ["e9f9"]


def test_malformed_records_give_reasons():
    xqf = (FORMATS / "test_5_variations.xqf").read_bytes()
    cases = {
        "cut.xqf": (xqf[:1000], "truncated file"),
        "cut-tree.xqf": (xqf[:1030], "truncated file"),
        "magic.xqf": (b"QX" + xqf[2:], "not an XQF file"),
        "version.xqf": (xqf[:2] + bytes([30]) + xqf[3:], "unsupported XQF version"),
        "key.xqf": (xqf[:12] + bytes([(xqf[12] + 1) % 256]) + xqf[13:], "bad key"),
        "cut.cbr": ((FORMATS / "test.cbr").read_bytes()[:2300], "truncated file"),
        "empty.cbl": (b"CCBridgeLibrary\x00" + bytes(600), "no game"),
        "bad.cbf": (b"<ChineseChessRecord><MoveList><Move value='77-47'/><Move", "not a CBF file"),
        "bad.ubb": (b"[DhtmlXQ_movelist]7747774[/DhtmlXQ_movelist]", "invalid move list"),
        "bad-move.ubb": (b"[DhtmlXQ_movelist]77477077[/DhtmlXQ_movelist]", "illegal move"),
        "orphan.ubb": (b"[DhtmlXQ_movelist]7747[/DhtmlXQ_movelist]"
                       b"[DhtmlXQ_move_2_2_1]7062[/DhtmlXQ_move_2_2_1]", "bad variation"),
    }
    for name, (data, kind) in cases.items():
        (error,) = read_any(name, data)
        assert isinstance(error, PgnError) and error.kind == kind, (name, error)


def test_damaged_files_never_crash():
    rng = random.Random(15)
    files = [p for p in sorted(FORMATS.iterdir()) if is_record_name(p.name)]
    assert len(files) >= 27
    for path in files:
        data = path.read_bytes()
        for _ in range(6):
            cut = data[:rng.randrange(len(data))]
            flipped = bytearray(data)
            for _ in range(4):
                flipped[rng.randrange(len(data))] = rng.randrange(256)
            for damaged in (cut, bytes(flipped), rng.randbytes(len(data))):
                for g in read_any(path.name, damaged):
                    assert isinstance(g, (Game, PgnError))


def test_data_check_reads_every_format():
    summary = check([str(FORMATS)], workers=1)
    # 21 XQF (2 rejected, 2 without moves), 2 CBR, 2 CBF, 131 CBL entries and one DhtmlXQ text.
    assert summary["files"] == 28
    assert summary["games"] == 21 + 2 + 2 + 131 + 1
    assert summary["accepted"] == 17 + 2 + 2 + 129 + 1
    assert summary["rejected_by_reason"] == {"no game": 2, "no moves": 2, "illegal move": 1,
                                             "illegal move in a variation": 1}


def test_data_check_reads_records_in_an_archive(tmp_path):
    archive = tmp_path / "records.zip"
    names = ["030-黄松轩先胜冯敬如.XQF", "test.cbr", DHTMLXQ, "1956年全国象棋锦标赛93局.CBL"]
    with zipfile.ZipFile(archive, "w") as z:
        for name in names:
            z.write(FORMATS / name, f"games/{name}")
        z.writestr("games/notes.txt", "not a record")
    summary = check([str(archive)], workers=1)
    assert (summary["files"], summary["accepted"], summary["rejected"]) == (4, 96, 0)


@pytest.mark.slow
@pytest.mark.skipif(not ARCHIVE.is_file(), reason=f"no archive at {ARCHIVE}")
def test_xqf_archive_acceptance():
    outcomes: Counter = Counter()
    with tarfile.open(ARCHIVE) as tar:
        for member in tar:
            if member.isfile() and is_record_name(member.name):
                data = tar.extractfile(member).read()
                for g in read_any(member.name, data):
                    outcomes[g.kind if isinstance(g, PgnError) else
                             "accepted" if g.moves else "no moves"] += 1
    assert outcomes == {"accepted": 3466, "no moves": 10385, "bad position": 14,
                        "illegal move": 4, "illegal move in a variation": 1}
