"""Every ``xqgpt`` subcommand, run as a subprocess with broken arguments and paths (a folder for a
file, a missing file, an output that cannot be written, bad numbers, engines that do not start):
one error line naming the problem, a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
HUGE = "9" * 4300


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "folder").mkdir()
    (tmp / "empty.pgn").write_bytes(b"")
    (tmp / "binary.pgn").write_bytes(bytes(range(256)) * 4)
    (tmp / "garbage.pgn").write_text("garbage\n")
    (tmp / "file").write_text("not a folder\n")
    (tmp / "game.pgn").write_text("1. h2e2 h9g7 *\n")
    return {"tmp": str(tmp), "folder": str(tmp / "folder"), "empty": str(tmp / "empty.pgn"),
            "binary": str(tmp / "binary.pgn"), "garbage": str(tmp / "garbage.pgn"), "file": str(tmp / "file"),
            "game": str(tmp / "game.pgn"), "missing": str(tmp / "missing.pgn"),
            "under_file": str(tmp / "file" / "out.pgn"), "missing_dir": str(tmp / "no-such-folder")}


ARENA = ["arena", "--red", "random", "--black", "greedy", "--games", "1"]
CASES = [
    # (arguments with {placeholders}, exit status, words of the error line)
    (["perft", "startpos", "99999999999999999999"], 2, ["depth"]),
    (["perft", "startpos", "-1"], 2, ["depth"]),
    (["perft", "startpos", "two"], 2, ["depth", "two"]),
    (["perft", "not a fen", "1"], 2, ["fen"]),
    (["perft", f"4k4/9/9/9/9/9/9/9/9/3K5 b - - 0 {HUGE}", "1"], 2, ["counter"]),
    (["data", "build", "{missing}", "--out", "{tmp}/ds1"], 2, ["no such file"]),
    (["data", "build", "{garbage}", "--out", "{file}"], 2, ["--out", "file"]),
    (["data", "build", str(SAMPLES), "--out", "{tmp}/ds2", "--workers", "0"], 2, ["--workers"]),
    (["data", "check", "{empty}"], 1, ["no readable game"]),
    (["data", "check", "{binary}"], 1, ["no readable game"]),
    (["data", "check", "{missing}"], 2, ["no such file"]),
    (["data", "check", "{game}", "--workers", "-2"], 2, ["--workers"]),
    (["data", "label", "{missing_dir}", "--depth", "1"], 2, ["not a dataset"]),
    (["train", "--data", "{missing_dir}", "--out", "{tmp}/run"], 2, ["not a dataset"]),
    (["train-legality", "--data", "{file}", "--out", "{tmp}/legal"], 2, ["not a dataset"]),
    (["combine", "--member", "{missing_dir}", "--out", "{tmp}/ens"], 2, ["no-such-folder"]),
    (["eval", "--pgn", "{folder}"], 2, ["directory", "folder"]),
    (["eval", "--pgn", "{missing}"], 2, ["missing.pgn"]),
    (["eval", "--pgn", "{game}", "--max-games", "-1"], 2, ["--max-games"]),
    (["eval", "--pgn", "{game}", "--model", "{missing_dir}"], 2, ["model"]),
    (["serve", "--model", "{missing_dir}"], 2, ["model"]),
    (["serve", "--port", "-1"], 2, ["--port"]),
    (["serve", "--puzzles", "{missing}"], 2, ["no puzzle file", "missing.pgn"]),
    (["serve", "--puzzles", "{garbage}"], 2, ["garbage.pgn, line 1: not a puzzle"]),
    (["puzzle", "--puzzles", "{empty}"], 2, ["no puzzle in"]),
    ([*ARENA, "--pgn", "{folder}"], 2, ["--pgn", "folder"]),
    ([*ARENA, "--pgn", "{under_file}"], 2, ["--pgn", "does not exist"]),
    (["arena", "--red", "uci:/nonexistent/engine", "--black", "random", "--games", "1"], 2, ["engine"]),
    (["arena", "--red", "uci:/bin/false", "--black", "random", "--games", "1"], 2, ["engine"]),
    (["arena", "--red", "uci:/bin/false", "--black", "random", "--games", "2", "--workers", "2"], 2,
     ["engine"]),
    (["arena", "--red", "uci:/bin/false?movetime=abc", "--black", "random"], 2, ["movetime", "abc"]),
    (["arena", "--red", "model:grandmaster", "--black", "random"], 2, ["level", "grandmaster"]),
    (["arena", "--red", "chess", "--black", "random"], 2, ["chess"]),
    ([*ARENA, "--max-plies", "-3"], 2, ["--max-plies"]),
    ([*ARENA, "--workers", "0"], 2, ["--workers"]),
    ([*ARENA, "--openings", "-1"], 2, ["--openings"]),
    ([*ARENA, "--movetime", "-5"], 2, ["--movetime"]),
    (["arena", "--red", "random", "--black", "greedy", "--games", "0"], 2, ["--games"]),
    (["uci", "--level", "nonsense"], 2, ["level", "nonsense"]),
    (["uci", "--model", "{missing_dir}"], 2, ["model"]),
    (["play", "--level", "nonsense"], 2, ["level", "nonsense"]),
    (["play", "--fen", "bad"], 2, ["fen"]),
    (["play", "--pgn", "{folder}"], 2, ["--pgn", "folder"]),
    (["nonsense"], 2, ["nonsense"]),
]


@pytest.mark.parametrize("args, status, words", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_broken_arguments_give_one_clear_line(paths, args, status, words):
    argv = [a.format(**paths) for a in args]
    proc = subprocess.run([sys.executable, "-m", "xqgpt.cli", *argv], cwd=ROOT, input="go\nquit\n",
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("xqgpt"), errors[0]
    for word in words:
        assert word.format(**paths).lower() in errors[0].lower(), errors[0]
