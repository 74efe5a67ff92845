"""``xqgpt play`` driven through its standard input, with the shipped model (or $XQGPT_MODEL).

Each test that plays starts one ``xqgpt play`` process (loading the model takes a few seconds).
The position of the short game is chosen so that the model's reply is forced: the game reaches a
known position whatever the model weighs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from play.board_text import render_board
from play.terminal import why_illegal
from xiangqi import STARTING_FEN, Board, Move
from xiangqi.pgn import read_pgn_file

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).with_name("data")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}
MODEL = ["--model", os.environ["XQGPT_MODEL"]] if os.environ.get("XQGPT_MODEL") else []  # as conftest
# Red to move; Ｈ５＋３ (e7g8) checks, the black general's only move is e9e8, then 俥八進六 (b2b8) mates.
# Red's soldiers doubled on file 7 make P7=6 ambiguous.
MATE_FEN = "r2aka3/9/4N4/p1P6/2P6/9/9/1R7/9/3K5 w - - 0 1"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLAYED = re.compile(r"(?:You play|Xiangqi-GPT plays) \d+\.(?:\.\.)? \S+ \(([a-i][0-9][a-i][0-9])\)")


def play(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xqgpt.cli", "play", *MODEL, *args], input=stdin, text=True,
                          encoding="utf-8", capture_output=True, cwd=ROOT, env=ENV, timeout=600)


def boards(output: str) -> list[str]:
    """The boards printed in ``output`` (14 lines each, escape codes kept)."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines[:-1])
              if ANSI.sub("", line).endswith(("black", "red")) and re.match(r" [09] ", lines[i + 1])]
    return ["\n".join(lines[i:i + 14]) for i in starts]


def replay(output: str, fen: str = STARTING_FEN) -> Board:
    board = Board(fen)
    for iccs in PLAYED.findall(output):
        board.push_uci(iccs)
    return board


def test_short_game_to_a_known_position(tmp_path) -> None:
    """Bad moves get the API's messages; moves in three notations; the model's forced reply;
    mate; a move after the end; end of input leaves with the game written."""
    out = tmp_path / "game.pgn"
    moves = ["xyz", "P7=6", "h2h9", "b2c3", "e7e9", "兵三进一", "Ｈ５＋３", "俥八進六", "h2e2"]
    run = play("--fen", MATE_FEN, "--level", "club", "--pgn", str(out), stdin="\n".join(moves) + "\n")
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert "Traceback" not in run.stderr
    assert "invalid WXF move 'xyz' (type help for the commands)" in text
    # An ambiguous or illegal move is explained in words, without a FEN.
    assert "P7=6 is ambiguous: two of your pieces can make it; name the front or rear one" in text
    assert "h2h9 is illegal: there is no piece on h2\n" in text
    assert "b2c3 is illegal: chariot b2 to c3: a chariot moves any distance along a file or a rank\n" in text
    assert "e7e9 is illegal: horse e7 to e9: a horse moves one point along a file or a rank" in text
    assert "兵三进一 is not a legal move here: no piece of yours can make it\n" in text
    assert MATE_FEN.split()[0] not in text
    assert "You play 1. H5+3 (e7g8)\nXiangqi-GPT plays 1... K5+1 (e9e8)\nModel weighed: K5+1 100%\n" in text
    assert "You play 2. R8+6 (b2b8)\n" in text
    assert "Game over: Red wins by checkmate (1-0)." in text
    assert "The game is over (checkmate); type new to start another, or undo." in text
    assert text.rstrip().endswith(f"Games written to {out}.")
    printed = boards(text)
    assert len(printed) == 3  # the start, after the model's reply, after the mate
    assert printed[-1] + "\n" == (DATA / "terminal_board.txt").read_text(encoding="utf-8")
    assert "\x1b[" not in text  # plain letters when the output is not a terminal
    [game] = read_pgn_file(str(out))
    assert [m.uci() for m in game.moves] == ["e7g8", "e9e8", "b2b8"]
    assert game.result == "1-0" and game.fen == MATE_FEN
    assert game.headers["Red"] == "Human" and game.headers["Black"] == "Xiangqi-GPT (club)"
    assert "1. 马五进三 将５进１ 2. 车八进六 1-0" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("fen", "move", "reason"), [
    (STARTING_FEN, "h9g7", "the horse on h9 is Black's; Red is to move"),
    (STARTING_FEN, "a0a3", "your own soldier stands on a3"),
    (STARTING_FEN, "b0d1", "horse b0 to d1: the horse's leg on c0 is blocked"),
    (STARTING_FEN, "b2b7", "cannon b2 to b7: a cannon captures by jumping over exactly one piece "
                           "(0 between)"),
    (STARTING_FEN, "a0a6", "chariot a0 to a6: the chariot is blocked on a3"),
    (STARTING_FEN, "a3a5", "soldier a3 to a5: a soldier moves one point forwards (sideways too once across "
                           "the river), never back"),
    ("4k4/9/9/9/9/2B6/9/9/9/3K5 w - - 0 1", "c4e6", "elephant c4 to e6: an elephant moves two points "
                                                   "diagonally and never crosses the river"),
    ("3k5/4R4/9/9/9/9/9/9/9/4K4 b - - 0 1", "d9e9", "it would leave your general in check"),
    ("3k5/9/9/9/9/9/9/9/3R5/4K4 b - - 0 1", "d9d8",
     "your general is in check, and this move does not answer it"),
    ("3k5/9/9/9/9/9/9/9/3R5/4K4 b - - 0 1", "d9e9", "the two generals would face each other on an open file"),
])
def test_an_illegal_move_is_explained_in_words(fen: str, move: str, reason: str) -> None:
    board = Board(fen)
    assert not board.is_legal(Move.from_uci(move))
    assert why_illegal(board, Move.from_uci(move)) == reason


def test_commands(tmp_path) -> None:
    """Black against the model in colour: hint, a move, fen, flip, undo, pgn, help, resign, new, quit."""
    out = tmp_path / "games.pgn"
    # 卒１进１ (a6a5) is legal whatever Red opens with.
    lines = ["hint", "candidates", "卒１进１", "fen", "flip", "undo", "undo", "pgn", "pgn iccs", "pgn morse",
             "help", "resign", "undo", "new red", "quit", "h2e2"]
    run = play("--side", "black", "--level", "master", "--chinese", "--pgn", str(out),
               stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    text = run.stdout
    plain = ANSI.sub("", text)

    # The model opens and shows what it weighed, as the web board does.
    assert "You play black against Xiangqi-GPT (master)." in plain
    weighed = re.findall(r"Model weighed: (.*)", plain)
    assert len(weighed) == 2  # the opening and the reply
    shares = [int(p) for p in re.findall(r" (\d+)%", weighed[0])]
    assert len(shares) == 5 and shares == sorted(shares, reverse=True) and sum(shares) <= 102
    # hint: the search's best move, as the web board's Hint; candidates: the model's.
    hint = re.search(r"> hint\nHint: \S+ \(([a-i]\d[a-i]\d)\), the search's best move "
                     r"\(your expected score \d+%\)\n", plain)
    assert hint, plain
    candidates = plain.split("The model's candidates for you:\n")[1].splitlines()[:5]
    assert all(re.fullmatch(r"\s+\d+\.\d%  \S+ \([a-i]\d[a-i]\d\)", line) for line in candidates), candidates

    # fen: the position after the moves shown.
    first_game = plain.split("> new red")[0]
    after_reply = replay(first_game)
    assert [m.uci() for m in after_reply.move_stack][1] == "a6a5"
    assert len(after_reply.move_stack) == 3
    assert f"> fen\n{after_reply.fen()}\n" in plain

    # flip: Black was at the bottom (Red's numbers on top); flipped, Black's are on top.
    printed = [ANSI.sub("", b) for b in boards(text)]
    assert len(printed) == 5  # the opening, the reply, flip, undo, the new game
    assert printed[1].startswith("    一  二  三") and printed[1].splitlines()[-1].split()[0] == "i"
    assert printed[2].startswith("    １  ２  ３") and printed[2].splitlines()[-1].split()[0] == "a"

    # undo: back to the position after the model's first move; then nothing of ours is left.
    opening = Board()
    opening.push(after_reply.move_stack[0])
    assert opening.is_legal(Move.from_uci(hint.group(1)))  # the hint was for this position
    assert printed[3] == ANSI.sub("", render_board(opening, chinese=True))
    assert "> undo\nThere is no move of yours to take back.\n" in plain
    assert "game over> undo\nThe game is over (resignation); type new to start another.\n" in plain

    # pgn in the display notation and in ICCS; an unknown notation.
    assert '[Red "Xiangqi-GPT (master)"]\n[Black "Human"]\n[Result "*"]\n[Format "Chinese"]' in plain
    assert f'[Format "ICCS"]\n\n1. {opening.move_stack[0].uci()} *\n' in plain
    assert "unknown notation 'morse'; choose one of iccs, wxf, chinese, chinese-traditional" in plain

    # help names every command.
    for command in ("undo", "hint", "candidates", "flip", "fen", "pgn", "resign", "new", "help", "quit"):
        assert f"\n  {command} " in plain

    # resign, then a new game as Red from the start; quit leaves before the last line is read.
    assert "Game over: Red wins: Black resigned (1-0)." in plain
    assert "You play red against Xiangqi-GPT (master)." in plain
    assert ANSI.sub("", render_board(Board(), chinese=True)) + "\nRed to move (you).\n1. red> quit\n" in plain
    assert "You play 1." not in plain.split("> new red")[1]
    [game] = read_pgn_file(str(out))  # the new game has no move yet
    assert game.result == "1-0" and game.moves == opening.move_stack
    assert game.headers["Black"] == "Human"


def test_ctrl_c_leaves_cleanly(tmp_path) -> None:
    out = tmp_path / "game.pgn"
    command = [sys.executable, "-m", "xqgpt.cli", "play", *MODEL, "--level", "club", "--pgn", str(out)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT, env=ENV)
    proc.stdin.write(b"h2e2\n")
    proc.stdin.flush()
    seen = b""
    while b"2. red> " not in seen:  # the model has answered and the next move is awaited
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, seen.decode() + proc.stderr.read().decode()
        seen += chunk
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)  # stdin stays open: an end of input must not win the race with the signal
    rest, err = proc.communicate(timeout=10)
    text = (seen + rest).decode()
    assert proc.returncode == 130, err.decode()
    assert "Interrupted." in text and f"Games written to {out}." in text
    assert "Traceback" not in err.decode()
    [game] = read_pgn_file(str(out))
    assert len(game.moves) == 2 and game.moves[0].uci() == "h2e2" and game.result == "*"


def test_bad_arguments_fail_before_the_model_loads(tmp_path) -> None:
    run = play("--level", "grandmaster", stdin="")
    assert run.returncode == 2
    assert ("xqgpt: error: unknown level 'grandmaster'; choose one of: beginner, casual, club, master"
            in run.stderr)
    run = play("--fen", "not a fen", stdin="")
    assert run.returncode == 2 and run.stderr.startswith("xqgpt: error: ")
    run = play("--pgn", str(tmp_path / "missing" / "game.pgn"), stdin="")
    assert run.returncode == 2
    missing = tmp_path / "missing"
    assert run.stderr == f"xqgpt: error: --pgn {missing / 'game.pgn'}: folder {missing} does not exist\n"
    assert "Loading the model" not in run.stdout


def test_board_text() -> None:
    """The stored boards: plain letters, and Chinese characters in colour; flipped labels."""
    board = Board(MATE_FEN)
    for move in ("e7g8", "e9e8", "b2b8"):
        board.push_uci(move)
    assert render_board(board) + "\n" == (DATA / "terminal_board.txt").read_text(encoding="utf-8")
    chinese = render_board(board, chinese=True)
    assert chinese + "\n" == (DATA / "terminal_board_chinese.txt").read_text(encoding="utf-8")
    assert ANSI.sub("", chinese).splitlines()[2] == " 8  ・ [俥] ・  ・ !將! ・  傌  ・  ・ "
    flipped = render_board(Board(), flipped=True).splitlines()
    assert flipped[0].split() == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "red"]
    assert flipped[1] == " 0  R  N  B  A  K  A  B  N  R"
    assert flipped[-1].split() == list("ihgfedcba")
