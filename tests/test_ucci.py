"""UCCI both ways: ``xqgpt uci`` answering a GUI that opens with ``ucci``, and the engine client
speaking UCCI to it in the arena."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from play.arena import run_match, summarize
from play.search import PvLine
from play.ucci import read_position, ucci_limits, ucci_score
from xiangqi import Board, Move
from xiangqi.engine import Dialect, EngineSpec, Limit, UciClient

PY = sys.executable
XQGPT_UCI = f"{PY} -m xqgpt.cli uci"
ROOT = Path(__file__).resolve().parents[1]
# Black to move, two pawn moves, and after either Red mates with b1b9.
MATED_IN_ONE = "3k5/R8/9/p1p6/9/9/9/9/1R7/4K4 b - - 0 1"
# Black, a general and an advisor against two chariots: lost, but no mate in sight.
LOST = "3k5/4a4/R8/9/9/9/9/9/9/4K3R b - - 0 1"
WON = "3k5/4a4/R8/9/9/9/9/9/9/4K3R w - - 0 1"
STALEMATE = "4k4/9/9/9/9/9/9/9/4r4/3K5 w - - 0 1"  # Red to move has no legal move


def session(script: list[str]) -> list[str]:
    """``xqgpt uci``'s output for a script of commands."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([PY, "-m", "xqgpt.cli", "uci"], input="\n".join(script) + "\n", capture_output=True,
                          text=True, timeout=300, env=env).stdout.splitlines()


def answers(out: list[str]) -> list[str]:
    return [line for line in out if line.startswith(("bestmove", "nobestmove"))]


def test_go_limits() -> None:
    """UCCI's times (seconds, or milliseconds after usemillisec) become a budget in milliseconds."""
    assert ucci_limits("time 60 increment 2".split(), False, 1000).movetime == pytest.approx(2000 + 1500)
    assert ucci_limits("time 60000 increment 2000".split(), True, 1000).movetime == pytest.approx(3500)
    # a fixed time a move: the whole clock of one move, less a margin
    assert ucci_limits("time 500 movestogo 1".split(), True, 1000).movetime == pytest.approx(450)
    limits = ucci_limits("time 90 movestogo 10 opptime 80 oppmovestogo 10".split(), False, 1000)
    assert limits.movetime == pytest.approx(9000) and limits.mean_depth is None
    assert ucci_limits("ponder time 5000".split(), True, 1000).infinite
    assert ucci_limits("depth infinite".split(), True, 1000).infinite
    assert ucci_limits("depth 6".split(), True, 1000).mean_depth == 6
    assert ucci_limits("draw nodes 800".split(), True, 1000).nodes == 800
    assert ucci_limits([], True, 2500).movetime == 2500


def test_scores_and_positions() -> None:
    move = Move.from_uci("h2e2")
    assert ucci_score(PvLine(move, [move], 10, (0.5, 0.5, 0.0), mate=None)) > 0
    assert ucci_score(PvLine(move, [move], 10, (0.25, 0.5, 0.25), mate=None)) == 0
    assert ucci_score(PvLine(move, [move], 10, (1.0, 0.0, 0.0), mate=2)) == 10000 - 3
    assert ucci_score(PvLine(move, [move], 10, (0.0, 0.0, 1.0), mate=-1)) == -(10000 - 2)
    board = read_position("startpos moves h2e2 h9g7".split())
    assert board.fen().split()[0] == "rnbakab1r/9/1c4nc1/p1p1p1p1p/9/9/P1P1P1P1P/1C2C4/9/RNBAKABNR"
    fen = "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w - - 0 1"
    assert read_position(f"fen {fen} moves h2e2".split()).move_stack == [move]
    with pytest.raises(ValueError):
        read_position("startpos moves h3e3".split())  # UCCI moves are ICCS, ranks 0-9
    with pytest.raises(ValueError):
        read_position("sideways".split())


def test_engine_spec_and_go_commands() -> None:
    spec = EngineSpec.parse(f"{XQGPT_UCI}?protocol=ucci&depth=3&hashsize=16")
    assert spec.protocol == "ucci" and spec.dialect == Dialect.RANKS_0_9
    assert spec.options == {"hashsize": "16"} and spec.limit == Limit(depth=3)
    assert EngineSpec.parse("/usr/games/fairy-stockfish").protocol == "uci"
    with pytest.raises(ValueError, match="protocol must be uci or ucci"):
        EngineSpec.parse("engine?protocol=xboard")
    with pytest.raises(ValueError, match="ranks 0-9"):
        EngineSpec.parse("engine?protocol=ucci&ranks=1")
    client = UciClient(spec, movetime=2500)  # not started: times in seconds until usemillisec is taken
    assert client.go_command(Limit(depth=8, nodes=1000)) == "go depth 8"
    assert client.go_command(Limit(nodes=1000)) == "go nodes 1000"
    assert client.go_command(Limit(movetime=2500)) == "go time 2 movestogo 1"
    client.millisec = True
    assert client.go_command(Limit(movetime=250)) == "go time 250 movestogo 1"
    uci = UciClient(EngineSpec.parse("engine"))
    assert uci.go_command(Limit(movetime=250)) == "go movetime 250"


def test_scripted_session() -> None:
    out = session([
        "ucci", "setoption usemillisec true", "setoption level club", "setoption hashsize 64", "isready",
        "setoption newgame",
        "position startpos moves h2e2", "go time 60000 increment 1000 opptime 60000 oppincrement 1000",
        "position startpos", "banmoves h2e2 b2e2 b0c2 h0g2 c3c4 g3g4", "go depth 3",
        f"position fen {LOST}", "go draw time 5000",
        f"position fen {LOST}", "go time 5000",
        f"position fen {LOST}", "go ponder time 5000", "ponderhit draw",
        f"position fen {WON}", "go draw time 5000", "go depth 0",
        f"position fen {STALEMATE}", "go time 1000", "stop", "probe startpos", "banmoves e9",
        "setoption level nonsense", "bogus", "quit", "isready",
    ])
    assert out[:6] == [
        "id name Xiangqi-GPT", "id author Xiangqi-GPT authors", "option usemillisec type check default false",
        "option level type combo var beginner var casual var club var master var expert default master",
        "option newgame type button", "ucciok"]
    assert out.count("readyok") == 1 and out[-1] == "bye"  # nothing is read after quit
    replies = answers(out)
    assert len(replies) == 9
    board = read_position("startpos moves h2e2".split())
    assert board.is_legal(Move.from_uci(replies[0].split()[1])) and len(replies[0].split()) == 2
    best = Move.from_uci(replies[1].split()[1])  # a move the model likes less: the usual ones are banned
    assert Board().is_legal(best) and best.uci() not in "h2e2 b2e2 b0c2 h0g2 c3c4 g3g4".split()
    lost = Board(LOST)
    # lost positions: a draw offer is accepted, with a legal move; without an offer, no draw
    for reply in (replies[2], replies[4]):
        words = reply.split()
        assert words[0] == "bestmove" and words[2:] == ["draw"] and lost.is_legal(Move.from_uci(words[1]))
    assert len(replies[3].split()) == 2
    won = replies[5].split()  # a draw offered in a won position is declined
    assert len(won) == 2 and Board(WON).is_legal(Move.from_uci(won[1]))
    # ``go depth 0``, stalemated, and ``stop`` when idle
    assert replies[6:] == ["nobestmove", "nobestmove", "nobestmove"]
    assert "pophash" in out  # no search has run at this level: nothing to report
    assert any(line.startswith("info message bad banmoves") for line in out)
    assert any("unknown level nonsense" in line for line in out)
    assert "info message unknown command bogus" in out


def test_search_session() -> None:
    banned = "h2e2 b2e2 h0g2 b0c2"
    out = session([
        "ucci", "setoption usemillisec true", "setoption level expert", "isready",
        "position startpos", f"banmoves {banned}", "go nodes 32",
        f"position fen {MATED_IN_ONE}",  # waits for the search: its tree is there to probe
        "probe startpos", "probe startpos moves a0a1 a9a8", "go nodes 32",
        f"position fen {LOST}", "go draw nodes 16",
        "quit",
    ])
    replies = answers(out)
    assert len(replies) == 3
    first = replies[0].split()
    assert len(first) == 2 and Board().is_legal(Move.from_uci(first[1])) and first[1] not in banned.split()
    infos = [line.split() for line in out if line.startswith("info depth")]
    assert infos and all(w[3] == "score" and w[5] == "pv" and w[4].lstrip("-").isdigit() for w in infos)
    assert all(w[6] not in banned.split() for w in infos[:3])  # banned moves are not shown either
    assert any(line.startswith("info time ") and " nodes " in line for line in out)
    pophash = [line for line in out if line.startswith("pophash")]
    assert pophash[0].startswith("pophash bestmove ") and pophash[1] == "pophash"
    assert replies[1].split()[2:] == ["resign"]  # every move is mated at once
    assert Board(MATED_IN_ONE).is_legal(Move.from_uci(replies[1].split()[1]))
    assert any(line.startswith("info depth") and " score -9998 " in line for line in out)
    assert replies[2].split()[2:] == ["draw"] and Board(LOST).is_legal(Move.from_uci(replies[2].split()[1]))
    assert out[-1] == "bye"


def test_client_and_arena_speak_ucci() -> None:
    spec = f"{XQGPT_UCI}?protocol=ucci&level=club"
    with UciClient(EngineSpec.parse(spec), movetime=200) as client:
        assert client.name == "Xiangqi-GPT" and client.millisec
        assert set(client.engine_options) == {"usemillisec", "level", "newgame"}
        client.new_game()
        board = Board()
        for _ in range(4):
            board.push(client.bestmove(board))
            assert client.offer is None
        proc = client._proc
    assert proc is not None and proc.returncode == 0  # it said bye to quit and exited
    records = run_match(f"uci:{spec}", "random", 2, openings=2, max_plies=30, workers=1,
                        progress=False)
    s = summarize(records, "xqgpt ucci", "random")
    assert s["games"] == 2 and "forfeit" not in s["terminations"]
