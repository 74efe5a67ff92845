"""``xqgpt perft``: totals, --divide and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xqgpt.cli import main

XQGPT = Path(sys.executable).with_name("xqgpt")


def test_startpos_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["perft", "startpos", "2"]) == 0
    assert capsys.readouterr().out == "1920\n"


def test_divide(capsys: pytest.CaptureFixture[str]) -> None:
    fen = "1cbak4/9/n2a5/2p1p3p/5cp2/2n2N3/6PCP/3AB4/2C6/3A1K1N1 w - - 0 1"
    assert main(["perft", fen, "2", "--divide"]) == 0
    lines = capsys.readouterr().out.splitlines()
    per_move = dict(line.split(": ") for line in lines if ": " in line)
    assert len(per_move) == 7 and all(len(m) == 4 for m in per_move)
    assert sum(int(n) for n in per_move.values()) == 281
    assert lines[-1] == "281"


def test_bad_fen(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["perft", "4k4/9/9/9/9/9/9/9/9/4K4 w", "1"]) == 2
    assert "generals face each other" in capsys.readouterr().err


@pytest.mark.skipif(not XQGPT.exists(), reason="xqgpt console script not installed in this environment")
def test_console_script() -> None:
    out = subprocess.run([str(XQGPT), "perft", "startpos", "3", "--divide"], capture_output=True,
                         text=True, check=True, timeout=60).stdout.splitlines()
    assert out[-1] == "79666"
    assert any(line.startswith("h2e2: ") for line in out)
    assert sum(int(line.split(": ")[1]) for line in out if ": " in line) == 79666
