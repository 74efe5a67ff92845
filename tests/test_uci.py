"""UCI both ways: the client against a fake engine and Fairy-Stockfish, and ``xqgpt uci``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from play.arena import run_match, summarize
from xiangqi import Board, Move
from xiangqi.engine import (
    Dialect,
    EngineSpec,
    Limit,
    UciClient,
    UciError,
    dialect_of,
    move_to_text,
    parse_move_text,
)

FAKE = Path(__file__).with_name("fake_uci_engine.py")
FAIRY = Path("/usr/games/fairy-stockfish")
PY = sys.executable
XQGPT_UCI = f"{PY} -m xqgpt.cli uci"


def fake(*flags: str) -> str:
    return " ".join([PY, str(FAKE), *flags])


def test_dialects() -> None:
    move = Move.from_uci("h2e2")
    assert move_to_text(move, Dialect.RANKS_0_9) == "h2e2"
    assert move_to_text(move, Dialect.RANKS_1_10) == "h3e3"
    assert move_to_text(Move.from_uci("a9a8"), Dialect.RANKS_1_10) == "a10a9"
    assert parse_move_text("a10a9", Dialect.RANKS_1_10) == Move.from_uci("a9a8")
    assert parse_move_text("h3e3", Dialect.RANKS_1_10) == move
    with pytest.raises(ValueError):
        parse_move_text("a0a1", Dialect.RANKS_1_10)
    with pytest.raises(ValueError):
        parse_move_text("a10a9", Dialect.RANKS_0_9)
    assert dialect_of(["info", "pv", "h3e3", "h10g8"]) == Dialect.RANKS_1_10
    assert dialect_of(["bestmove", "h0g2"]) == Dialect.RANKS_0_9
    assert dialect_of(["bestmove", "h3e3"]) is None


def test_engine_spec() -> None:
    spec = EngineSpec.parse("/usr/games/fairy-stockfish?Skill Level=-5&depth=3&ranks=1&Hash=16")
    assert spec.command == ["/usr/games/fairy-stockfish"]
    assert spec.options == {"Skill Level": "-5", "Hash": "16"}
    assert spec.limit == Limit(depth=3)
    assert spec.dialect == Dialect.RANKS_1_10
    assert EngineSpec.parse("python engine.py --fast").command == ["python", "engine.py", "--fast"]


def test_limit() -> None:
    assert Limit(movetime=50).go_command() == "go movetime 50"
    assert Limit(depth=8, nodes=1000).go_command() == "go depth 8 nodes 1000"
    assert Limit(movetime=500).wait_seconds(10.0) == 11.0
    assert Limit(depth=8).wait_seconds(10.0) == 60.0
    for bad in (0, -5):
        with pytest.raises(ValueError, match="movetime must be a positive integer"):
            Limit(movetime=bad)
    with pytest.raises(ValueError, match="movetime must be a positive integer, not 'abc'"):
        EngineSpec.parse("/usr/games/fairy-stockfish?movetime=abc")


@pytest.mark.parametrize("flags", [(), ("--ranks10",), ("--ranks10", "--name", "Fairy-Stockfish-fake")])
def test_client_learns_the_dialect(flags: tuple[str, ...]) -> None:
    with UciClient(EngineSpec.parse(fake(*flags))) as client:
        client.new_game()
        board = Board()
        for _ in range(6):
            board.push(client.bestmove(board))
        assert client.dialect == (Dialect.RANKS_1_10 if flags else Dialect.RANKS_0_9)
        assert " moves " in client.position_command(board)


@pytest.mark.parametrize("flags", [(), ("--ranks10",)])
def test_fake_engine_through_the_arena(flags: tuple[str, ...]) -> None:
    records = run_match(f"uci:{fake(*flags)}", "random", 2, openings=2, max_plies=60, workers=1,
                        progress=False)
    s = summarize(records, "fake", "random")
    assert s["games"] == 2 and "forfeit" not in s["terminations"]


def test_broken_engines_forfeit() -> None:
    records = run_match(f"uci:{fake('--illegal')}", "random", 2, workers=1, progress=False)
    assert [r.termination for r in records] == ["forfeit", "forfeit"]
    assert summarize(records, "fake", "random")["score"] == 0.0
    with UciClient(EngineSpec.parse(fake("--silent")), timeout=0.5, movetime=10) as client:
        with pytest.raises(UciError, match="no 'bestmove'"):
            client.bestmove(Board())
    with pytest.raises(UciError, match="cannot start"):
        UciClient(EngineSpec.parse("/nonexistent/engine")).start()


def test_client_shuts_the_engine_down() -> None:
    client = UciClient(EngineSpec.parse(fake()))
    client.start()
    proc = client._proc
    client.close()
    assert proc is not None and proc.returncode == 0


@pytest.mark.skipif(not FAIRY.exists(), reason=f"{FAIRY} not found (apt-get install fairy-stockfish)")
def test_fairy_stockfish_plays_in_the_arena() -> None:
    spec = f"uci:{FAIRY}?Skill Level=-20&depth=1"
    records = run_match(spec, "greedy", 2, openings=2, max_plies=100, workers=1, progress=False)
    assert "forfeit" not in summarize(records, "fairy", "greedy")["terminations"]
    with UciClient(EngineSpec.parse(str(FAIRY)), movetime=20) as client:
        assert client.dialect == Dialect.RANKS_1_10 and "Fairy-Stockfish" in client.name
        board = Board()
        board.push_uci("h2e2")
        assert board.is_legal(client.bestmove(board))


def test_xqgpt_uci_scripted_session() -> None:
    script = "\n".join([
        "uci", "setoption name Level value club", "isready", "ucinewgame",
        "position startpos moves h2e2", "go movetime 100",
        "position startpos moves h3e3 h10g8", "go depth 1",
        "position fen 4k4/9/9/9/9/9/9/9/4r4/3K5 w - - 0 1", "go infinite", "stop",
        "setoption name Level value nonsense", "bogus", "quit", "isready",
    ]) + "\n"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([PY, "-m", "xqgpt.cli", "uci"], input=script, capture_output=True, text=True,
                         timeout=60, env=env).stdout.splitlines()
    assert out[0] == "id name Xiangqi-GPT"
    assert any(line.startswith("option name Level type combo default master") for line in out)
    assert out.count("uciok") == 1 and out.count("readyok") == 1  # nothing is read after quit
    best = [line.split()[1] for line in out if line.startswith("bestmove")]
    assert len(best) == 3
    board = Board()
    board.push_uci("h2e2")
    assert board.is_legal(Move.from_uci(best[0]))
    board = Board()
    board.push_uci("h2e2")
    board.push_uci("h9g7")
    # answered in the dialect it was asked in
    assert board.is_legal(parse_move_text(best[1], Dialect.RANKS_1_10))
    assert best[2] == "(none)"  # Red is stalemated there
    assert any("unknown level nonsense" in line for line in out)
    assert any("unknown command bogus" in line for line in out)


def test_xqgpt_uci_through_the_client() -> None:
    records = run_match(f"uci:{XQGPT_UCI}", "random", 2, openings=2, max_plies=40, workers=1, progress=False)
    assert "forfeit" not in summarize(records, "xqgpt uci", "random")["terminations"]
