"""``xqgpt data build`` and ``xqgpt data check``: the JSON last line, errors, nothing written by check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from data.dataset import is_dataset
from xqgpt.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
REQUIRED = {"files", "games", "accepted", "rejected", "duplicates", "unique", "plies", "rejected_by_reason"}


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_build_prints_the_summary_last(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["data", "build", str(SAMPLES), "--out", str(out), "--mirror", "--workers", "1"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert REQUIRED <= summary.keys()
    assert (summary["files"], summary["unique"], summary["duplicates"]) == (4, 5, 6)
    assert summary["mirror"] is True and "rejected_examples" not in summary
    assert is_dataset(str(out))
    on_disk = json.loads((out / "summary.json").read_text())
    assert {k: on_disk[k] for k in summary} == summary


def test_check_prints_the_same_counts_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "bad.pgn").write_text("1. h2e2 h9g7 2. h0h9\n")
    before = sorted(tmp_path.rglob("*"))
    assert main(["data", "check", str(SAMPLES), str(tmp_path / "bad.pgn")]) == 0
    captured = capsys.readouterr()
    summary = last_json(captured.out)
    assert REQUIRED <= summary.keys()
    assert summary["rejected_by_reason"] == {"illegal move": 1}
    assert (summary["files"], summary["files_accepted"], summary["unique"]) == (5, 4, 5)
    assert "bad.pgn game 0 ply 3: illegal move" in captured.err
    assert sorted(tmp_path.rglob("*")) == before

    out = tmp_path / "ds"
    main(["data", "build", str(SAMPLES), str(tmp_path / "bad.pgn"), "--out", str(out)])
    built = last_json(capsys.readouterr().out)
    assert {k: built[k] for k in summary} == summary


def test_missing_source_exits_2(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path / "missing.pgn")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_console_script_last_line_is_json(tmp_path):
    """The real command: a progress bar on stderr, the JSON object as the last stdout line."""
    proc = subprocess.run([sys.executable, "-m", "xqgpt.cli", "data", "build", str(SAMPLES),
                           "--out", str(tmp_path / "ds")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert last_json(proc.stdout)["unique"] == 5
    assert "reading" in proc.stderr
