"""Records made to hurt: every reader refuses them with a reason, in time and memory in proportion
to their size, within the bounds of :mod:`xiangqi.limits`; the commands that read records or
protocol lines report them and go on.

The hostile files are made here. Memory is measured with ``tracemalloc`` (the peak of Python's
allocations while one record is read).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

import data.dataset as dataset
from data.label import label
from xiangqi import Board, Move
from xiangqi.cbr import HEADER_SIZE as CBR_HEADER
from xiangqi.cbr import RECORD_MAGIC, read_cbf, read_cbr
from xiangqi.dhtmlxq import read_dhtmlxq
from xiangqi.limits import MAX_HEADER, MAX_PLIES, MAX_VARIATIONS, parse_int
from xiangqi.pgn import Game, PgnError, read_games, write_game
from xiangqi.records import read_any
from xiangqi.xqf import _record, read_xqf, write_xqf

ROOT = Path(__file__).resolve().parents[1]
XQGPT = [sys.executable, "-m", "xqgpt.cli"]
# Horses out and back: legal forever (the rules engine's move limit ends a game, not its moves).
FAIRY = "/usr/games/fairy-stockfish"
SHUFFLE = ["h0g2", "h9g7", "g2h0", "g7h9"]


def shuffle(plies: int) -> list[Move]:
    return [Move.from_uci(SHUFFLE[i % 4]) for i in range(plies)]


def peak_bytes(read, *args) -> tuple[object, int]:
    """What ``read(*args)`` returns, and the peak of the memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = read(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def pgn(plies: int, headers: str = "") -> str:
    words = [(f"{i // 2 + 1}. " if i % 2 == 0 else "") + m.uci() for i, m in enumerate(shuffle(plies))]
    return headers + "\n" + " ".join(words) + " *\n"


def test_parse_int_refuses_what_int_would_choke_on():
    assert parse_int(" 42 ", 0, 100) == 42
    assert parse_int("-3", -5, 5) == -3
    for text in ("²", "٣", "1²", "", "-", "+1", "1e3", "9" * 5000, "101", "0x1"):
        assert parse_int(text, 0, 100) is None, text


# -- 3. the ply cap ---------------------------------------------------------------------------

def test_a_record_longer_than_the_move_api_allows_is_refused():
    (game,) = read_games(pgn(MAX_PLIES))
    assert isinstance(game, Game) and len(game.moves) == MAX_PLIES
    (error,) = read_games(pgn(MAX_PLIES + 1))
    assert isinstance(error, PgnError)
    assert error.reason == f"record too long: a line of more than {MAX_PLIES} plies"
    assert error.ply == MAX_PLIES + 1


def test_too_many_variations_are_refused():
    text = "1. h2e2 " + "(1. b2e2) " * (MAX_VARIATIONS + 1) + "*"
    (error,) = read_games(text)
    assert isinstance(error, PgnError) and error.reason.startswith("record too large")


# -- 2. variation trees: one board, memory in proportion to the file ------------------------------

def hostile_xqf(plies: int) -> bytes:
    """Version 10: the start position, then ``plies`` legal moves each flagged with an alternative
    that never comes (the file ends first)."""
    head = write_xqf(Game())
    head = head[:1024] + _record(0, 0, True, False, "")
    body = b"".join(_record(m.from_square, m.to_square, True, True, "") for m in shuffle(plies))
    return head + body


def hostile_cbr(plies: int) -> bytes:
    """A CBR record of the start position, then ``plies`` legal moves each flagged with an
    alternative that never comes."""
    data = bytearray(CBR_HEADER)
    data[:len(RECORD_MAGIC)] = RECORD_MAGIC
    codes = {"R": 1, "N": 2, "B": 3, "A": 4, "K": 5, "C": 6, "P": 7}
    for square, piece in Board().squares():
        index = (9 - square // 9) * 9 + square % 9
        data[2120 + index] = (0x10 if piece.color else 0x20) | codes[piece.symbol().upper()]
    data[2116:2118] = struct.pack("<H", 1)

    def cbr_index(square: int) -> int:
        return (9 - square // 9) * 9 + square % 9

    data += bytes(4)  # the root record: the start position, a line follows
    for m in shuffle(plies):
        data += bytes([2, 0, cbr_index(m.from_square), cbr_index(m.to_square)])
    return bytes(data)


def hostile_dhtmlxq(plies: int, variations: int) -> str:
    """A main line of ``plies`` and one one-move variation at each of its first ``variations``
    moves (a horse on the other wing instead)."""
    def digits(move: Move) -> str:
        return "".join(f"{s % 9}{9 - s // 9}" for s in (move.from_square, move.to_square))

    tags = ["[DhtmlXQ_movelist]" + "".join(digits(m) for m in shuffle(plies)) + "[/DhtmlXQ_movelist]"]
    for n in range(1, variations + 1):
        other = Move.from_uci("b0c2" if n % 2 else "b9c7")
        tags.append(f"[DhtmlXQ_move_0_{n}_{n}]{digits(other)}[/DhtmlXQ_move_0_{n}_{n}]")
    return "[DhtmlXQ]" + "".join(tags) + "[/DhtmlXQ]"


@pytest.mark.parametrize("read, data", [
    (read_xqf, hostile_xqf(MAX_PLIES - 1)),
    (read_cbr, hostile_cbr(MAX_PLIES - 1)),
], ids=["xqf", "cbr"])
def test_pending_alternatives_cost_no_board_copies(read, data):
    """Each pending alternative kept a copy of the board with its whole history: quadratic
    (about 70 MB for these files of 16 and 10 kB; the issue's 65 kB XQF took 950 MB)."""
    try:
        result, peak = peak_bytes(read, data)
    except PgnError as e:
        result, peak = e, None
    assert isinstance(result, PgnError) and result.kind == "truncated file"
    if peak is None:  # measure again, the error caught inside
        def read_error(data: bytes) -> PgnError | Game:
            try:
                return read(data)
            except PgnError as e:
                return e
        result, peak = peak_bytes(read_error, data)
    assert peak < 8_000_000, f"{peak:,} bytes for a file of {len(data):,}"


def test_dhtmlxq_variations_are_replayed_on_one_board():
    """2,000 variations on a 1,999-ply line took 16 s and 650 MB: each copied the board and
    replayed its parent line up to where it branches."""
    text = hostile_dhtmlxq(MAX_PLIES - 1, 1990)
    (game,), peak = peak_bytes(lambda t: list(read_dhtmlxq(t)), text)
    assert isinstance(game, Game), str(game)
    assert len(game.moves) == MAX_PLIES - 1 and len(game.variations) == 1990
    assert game.variations[7].ply == 7 and game.variations[7].moves == [Move.from_uci("b9c7")]
    assert peak < 16_000_000, f"{peak:,} bytes for {len(text):,} characters"


def test_dhtmlxq_refuses_a_line_past_the_ply_cap():
    (error,) = read_dhtmlxq(hostile_dhtmlxq(MAX_PLIES + 1, 0))
    assert isinstance(error, PgnError) and error.reason.startswith("record too long")
    assert error.ply == MAX_PLIES + 1


def test_xqf_refuses_a_line_past_the_ply_cap():
    with pytest.raises(PgnError, match="record too long") as e:
        read_xqf(hostile_xqf(MAX_PLIES + 1))
    assert e.value.ply == MAX_PLIES + 1


# -- 1. DhtmlXQ in linear time ----------------------------------------------------------------

def test_unclosed_dhtmlxq_tags_are_read_in_linear_time():
    """``[DhtmlXQ_movelist]`` × 12,000 took 16 s (each unclosed tag's regex scanned to the end);
    × 300,000 would take hours. A generous deadline in a child process, not a timing."""
    code = ("from xiangqi.dhtmlxq import read_dhtmlxq\n"
            "text = '[DhtmlXQ_movelist]' * 300_000 + '[DhtmlXQ]' * 300_000 + '[DhtmlXQ_movelist]7747'\n"
            "print(*[str(g) for g in read_dhtmlxq(text)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "no game: no DhtmlXQ tags" in out.stdout


def test_dhtmlxq_tags_pair_as_before():
    text = ("[DhtmlXQ_title]a [DhtmlXQ_red]R[/DhtmlXQ_red][DhtmlXQ_movelist]77477062"
            "[/DhtmlXQ_movelist][DhtmlXQ_black]B[/DhtmlXQ_black]")
    (game,) = read_dhtmlxq(text)
    assert [m.uci() for m in game.moves] == ["h2e2", "h9g7"]
    assert game.headers["Red"] == "R" and game.headers["Black"] == "B" and "Title" not in game.headers


# -- 6. CBF: no DTD in any encoding, headers of bounded length -----------------------------------

def cbf(head: str, doctype: str = "", encoding: str = "utf-8") -> bytes:
    text = (f'<?xml version="1.0" encoding="{encoding}"?>{doctype}<ChineseChessRecord Version="1.0">'
            f"<Head>{head}</Head><MoveList><Move value=\"00-00\"/><Move value=\"77-47\"/></MoveList>"
            "</ChineseChessRecord>")
    return text.encode(encoding)


def test_cbf_entities_are_refused_in_utf16_too():
    doctype = '<!DOCTYPE r [<!ENTITY a "' + "x" * 1000 + '">]>'
    data = cbf("<Contest>" + "&a;" * 8000 + "</Contest>", doctype, "utf-16")
    (error,) = read_any("bomb.cbf", data)
    assert isinstance(error, PgnError)
    assert error.reason == "not a CBF file: XML with a DOCTYPE or entities"


def test_cbf_headers_have_a_bounded_length():
    (game,) = read_any("ok.cbf", cbf("<Contest>" + "x" * MAX_HEADER + "</Contest>"))
    assert isinstance(game, Game) and len(game.headers["Event"]) == MAX_HEADER
    (error,) = read_any("long.cbf", cbf("<Contest>" + "x" * (MAX_HEADER + 1) + "</Contest>"))
    assert isinstance(error, PgnError) and error.reason.startswith("header too long: Event")


def test_pgn_headers_have_a_bounded_length():
    (error,) = read_games(pgn(2, f'[Event "{"x" * (MAX_HEADER + 1)}"]'))
    assert isinstance(error, PgnError) and error.reason.startswith("header too long: Event")


# -- integers: one parser with a range -----------------------------------------------------------

def test_integers_no_reader_can_parse_are_reasons_not_crashes():
    (error,) = read_games("1. h2e2 $² *")
    assert isinstance(error, PgnError) and error.reason.startswith("bad NAG")
    (error,) = read_games("1. h2e2 $" + "9" * 5000 + " *")
    assert isinstance(error, PgnError) and error.reason.startswith("bad NAG")
    (game,) = read_games("1. h2e2 $14 *")
    assert game.nags == {0: [14]}
    game = read_cbf(cbf("<RecordResult>" + "1" * 5000 + "</RecordResult>"))
    assert game.result == "*" and len(game.moves) == 1
    big = "9" * 5000
    (error,) = read_dhtmlxq(f"[DhtmlXQ_movelist]7747[/DhtmlXQ_movelist][DhtmlXQ_move_0_1_{big}]7947"
                            f"[/DhtmlXQ_move_0_1_{big}]")
    assert isinstance(error, PgnError) and error.reason.startswith("bad variation")
    (game,) = read_dhtmlxq(f"[DhtmlXQ_movelist]7747[/DhtmlXQ_movelist][DhtmlXQ_comment{big}]x"
                           f"[/DhtmlXQ_comment{big}][DhtmlXQ_comment1]ok[/DhtmlXQ_comment1]")
    assert isinstance(game, Game) and game.comments == {1: "ok"}


# -- the writer and nested variations ------------------------------------------------------------

def test_a_thousand_nested_variations_are_written_and_read_back():
    text = "1. h2e2 " + "(1. h2e2 " * 1000 + ")" * 1000 + " *"
    (game,) = read_games(text)
    assert isinstance(game, Game)
    for notation in ("iccs", "chinese"):
        written = write_game(game, notation)
        (again,) = read_games(written)
        line, depth = again, 0
        while line.variations:
            line, depth = line.variations[0], depth + 1
        assert depth == 1000


# -- 5. archives: bytes counted as they are read ---------------------------------------------------

def test_data_check_of_dev_zero_ends_with_an_error_line(tmp_path):
    """``/dev/zero`` has size 0 and no end: it is read up to the cap, then refused. The child may
    use 1 GiB (the old reader ran out of memory reading it)."""
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
            "from xqgpt.cli import main\n"
            "sys.exit(main(['data', 'check', '/dev/zero']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TQDM_DISABLE": "1"})
    assert out.returncode == 1, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert "/dev/zero: file too large: more than 67108864 bytes" in lines
    assert lines[-1] == "xqgpt: error: no readable game in the sources"
    assert "MemoryError" not in out.stderr


def bzip2_bomb(path: Path, size: int) -> None:
    """A zip with one bzip2 member of ``size`` zero bytes that declares 100 bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("bomb.pgn", bytes(size))
        z.writestr("good.pgn", pgn(4))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size fields
        at = data.find(signature)
        data[at + offset:at + offset + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_member_is_refused_in_bounded_memory(tmp_path, monkeypatch):
    """The zipfile module decompresses a bzip2 read whole: 1.5 kB that declares 100 bytes took
    ``data check`` to 4.2 GB. Here the cap is lowered to 1 MiB and the member holds 64 MiB."""
    bomb = tmp_path / "bomb.zip"
    bzip2_bomb(bomb, 64 << 20)
    assert bomb.stat().st_size < 100_000
    monkeypatch.setattr(dataset, "MAX_FILE_BYTES", 1 << 20)
    summary, peak = peak_bytes(dataset.check, [str(bomb)], 1)
    assert peak < 16_000_000, f"{peak:,} bytes"
    assert summary["accepted"] == 1
    assert summary["rejected_by_reason"] == {"file too large": 1}
    assert summary["rejected_examples"] == [f"{bomb}:bomb.pgn: file too large: more than {1 << 20} bytes"]


def test_members_in_flight_are_bounded(tmp_path):
    """24 members of 16 MiB in a 0.4 MB tar.gz: the pool read every member into memory while the
    first ones were parsed (64 of them reached 2.17 GB). Now at most IN_FLIGHT_BYTES (32 MiB
    here) wait for the workers: the reading process's own peak stays far below the 384 MiB of all
    members (the workers' peaks depend on which members each parses at once, so they are not
    measured here)."""
    archive = tmp_path / "many.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for i in range(24):
            info = tarfile.TarInfo(f"m{i:02d}.pgn")
            info.size = 16 << 20
            tar.addfile(info, io.BytesIO(bytes([i]) + bytes(info.size - 1)))  # binary: no game, no copy
    # VmHWM, not ru_maxrss: ru_maxrss keeps the high-water mark of the process that forked it (pytest's,
    # gigabytes once the suite has loaded its models) across exec
    code = ("import json, re, sys\n"
            "import data.dataset as d\n"
            "d.IN_FLIGHT_BYTES = 32 << 20\n"
            "summary = d.check([sys.argv[1]], workers=2)\n"
            "peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "print(json.dumps({'files': summary['files'], 'peak_kb': peak}))")
    out = subprocess.run([sys.executable, "-c", code, str(archive)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "TQDM_DISABLE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["files"] == 24
    assert result["peak_kb"] < 250_000, result


def test_member_names_are_printed_escaped(tmp_path):
    archive = tmp_path / "names.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("evil\n\x1b[31mred.pgn", "1. h2e2 *")
        z.writestr("bad\x1b]0;title\x07.pgn", "1. a0a5 *")
    out = subprocess.run(XQGPT + ["data", "check", str(archive)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TQDM_DISABLE": "1"})
    assert "\x1b" not in out.stderr + out.stdout and "\x07" not in out.stderr
    assert f"{archive}:bad\\x1b]0;title\\x07.pgn game 0 ply 1: illegal move" in out.stderr


def test_a_file_a_reader_cannot_handle_is_named_and_skipped(tmp_path):
    (tmp_path / "a.pgn").write_text("1. h2e2 $² *")
    (tmp_path / "b.pgn").write_text("1. h2e2 h9g7 *")
    big = "1" * 5000
    (tmp_path / "c.dhtmlxq").write_text(f"[DhtmlXQ_movelist]7747[/DhtmlXQ_movelist][DhtmlXQ_move_0_1_{big}]"
                                        f"7947[/DhtmlXQ_move_0_1_{big}]")
    summary = dataset.check([str(tmp_path)], workers=1)
    assert summary["files"] == 3 and summary["accepted"] == 1
    assert sorted(summary["rejected_by_reason"]) == ["bad NAG", "bad variation"]
    assert any(line.startswith(f"{tmp_path / 'a.pgn'} game 0") for line in summary["rejected_examples"])


# -- the commands ---------------------------------------------------------------------------

def test_uci_survives_bad_numbers_and_answers_no_move_for_a_bad_position():
    commands = ["uci", "setoption name MultiPV value ²", "setoption name MultiPV value " + "9" * 5000,
                "position fen rnbakabnr/9/1c5c1/p1p1p1p1p/9 w", "go movetime ²", "quit"]
    out = subprocess.run(XQGPT + ["uci", "--level", "club"], cwd=ROOT, input="\n".join(commands) + "\n",
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[-1] == "bestmove (none)", lines
    assert lines[-2].startswith("info string no position")
    assert sum(line.startswith("bestmove") for line in lines) == 1
    assert sum(line.startswith("info string MultiPV must be 1..") for line in lines) == 2


def test_arena_refuses_openings_it_cannot_make():
    out = subprocess.run(XQGPT + ["arena", "--red", "random", "--black", "random", "--openings", "10000"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last == "xqgpt: error: --openings must be from 0 to 60 plies, not 10000"


def test_label_refuses_a_negative_limit():
    out = subprocess.run(XQGPT + ["data", "label", "somewhere", "--depth", "1", "--limit", "-1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "argument --limit: must be at least 0, not -1" in out.stderr


@pytest.mark.skipif(not Path(FAIRY).is_file(), reason="Fairy-Stockfish is not installed")
def test_a_failed_label_run_does_not_refuse_the_next(fixture_data, tmp_path):
    """``--engine /bin/false`` left a meta.json with its settings: every later run was refused."""
    data = Path(shutil.copytree(fixture_data, tmp_path / "data", ignore=shutil.ignore_patterns("labels")))
    failed = subprocess.run(XQGPT + ["data", "label", str(data), "--engine", "/bin/false", "--depth", "1",
                                     "--limit", "4"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2, failed.stderr
    # the engine is found dead when it is asked (not running) or while it is awaited (exited): a race
    dead = r"xqgpt: error: engine /bin/false (is not running|exited while we waited for 'uciok')"
    assert re.fullmatch(dead, failed.stderr.strip().splitlines()[-1]), failed.stderr
    summary = label(str(data), FAIRY, depth=1, limit=4, chunk=4, progress=False)
    assert summary["labelled"] == 4
    with pytest.raises(ValueError, match="other settings"):  # labels made: other settings are refused
        label(str(data), FAIRY, depth=2, limit=4, chunk=4, progress=False)


def test_analyse_writes_a_thousand_nested_variations(tmp_path):
    """The PGN writer recursed once per nesting level: RecursionError."""
    path = tmp_path / "nested.pgn"
    path.write_text("1. h2e2 " + "(1. h2e2 " * 1000 + ")" * 1000 + " *\n")
    out = subprocess.run(XQGPT + ["analyse", str(path), "--nodes", "2", "--notation", "iccs"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("(1. h2e2") == 1000


def test_a_rating_int_would_choke_on_is_left_out(tmp_path):
    """``[RedElo "²"]``: ``str.isdigit`` said yes and ``int`` raised, which aborted ``data build``."""
    (tmp_path / "a.pgn").write_text('[RedElo "²"]\n[BlackElo "2500"]\n\n1. h2e2 h9g7 *\n')
    summary = dataset.build([str(tmp_path)], str(tmp_path / "out"), workers=1)
    assert summary["accepted"] == 1
    (line,) = [p.read_text() for p in (tmp_path / "out").glob("*/games.jsonl") if p.read_text()]
    assert json.loads(line)["red_elo"] is None and json.loads(line)["black_elo"] == 2500
