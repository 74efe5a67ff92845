"""``xqgpt play``: a game against the model in a terminal.

The person types moves in any notation :func:`xiangqi.notation.parse_move` reads (ICCS, WXF,
Chinese, full-width or not) or a command (see :data:`HELP`); the model answers at a level of
:data:`play.levels.LEVELS` and shows the candidates it weighed. End of input and Ctrl-C leave
cleanly; with ``--pgn`` the session's games are written there when a game ends and on leaving.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import select
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from xiangqi import (
    ADVISOR,
    BLACK,
    CANNON,
    CHARIOT,
    COLOR_NAMES,
    ELEPHANT,
    GENERAL,
    HORSE,
    RED,
    SOLDIER,
    STARTING_FEN,
    AmbiguousMoveError,
    Board,
    Color,
    InvalidMoveError,
    Move,
    Square,
    XiangqiError,
    square_file,
    square_name,
    square_rank,
)
from xiangqi.base import PIECE_NAMES
from xiangqi.notation import detect_notation, parse_move, render_move, to_halfwidth
from xiangqi.pgn import NOTATIONS, Game, write_game

from .board_text import render_board
from .levels import THINKING_MS, check_level, choose_move
from .search import Networks, Search, value_net_for

if TYPE_CHECKING:
    from model.policy import Policy

N_CANDIDATES = 5
HINT_NODES = 64  # the search's playouts for a hint, as the web board's Hint
HELP = """\
Type a move in any notation: ICCS h2e2, WXF C2=5, Chinese 炮二平五 (full-width characters too).
Commands:
  undo            take back your last move and the model's reply
  hint            the search's best move for you (as the web board's Hint)
  candidates      the model's top candidates for you, with probabilities
  flip            turn the board around
  fen             the position as FEN
  pgn [NOTATION]  the game as PGN (chinese, chinese-traditional, wxf or iccs)
  resign          give up the game
  new [red|black] start a new game (on the same side unless one is named)
  help            this text
  quit            leave (also exit, end of input and Ctrl-C)
Board: [ ] marks the last move, ! ! a general in check."""
COMMANDS = ("undo", "hint", "candidates", "flip", "fen", "pgn", "resign", "new", "help", "quit", "exit")


class TerminalGame:
    """One person against the model: the game, its display and the commands."""

    def __init__(self, policy: Policy, *, side: Color, level: str, start_fen: str, chinese: bool,
                 out: TextIO, pgn_path: str | None = None, rng: random.Random | None = None,
                 search: Search | None = None) -> None:
        self.policy = policy
        self.search = search  # the game's own search, at a level that searches
        self.side = side
        self.level = level
        self.start_fen = start_fen
        self.chinese = chinese
        self.notation = "chinese" if chinese else "wxf"
        self.out = out
        self.pgn_path = pgn_path
        self.rng = rng or random.Random()
        self.played: list[Game] = []  # earlier games of this session
        self.board = Board(start_fen)
        self.flipped = side == BLACK
        self.resigned = False
        self.analyser = None  # the search for hints, loaded on the first hint

    # -- output ---------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self) -> None:
        """The board and a status line."""
        self.say(render_board(self.board, chinese=self.chinese, flipped=self.flipped))
        self.say(self.status())

    def status(self) -> str:
        ending = self.ending()
        if ending is not None:
            result, _, description = ending
            return f"Game over: {description} ({result}). Type new, undo, pgn or quit."
        mover = COLOR_NAMES[self.board.turn].capitalize()
        who = "you" if self.board.turn == self.side else "the model"
        return f"{mover} to move ({who}){' and in check!' if self.board.is_check() else '.'}"

    def prompt(self) -> str:
        if self.ending() is not None:
            return "game over> "
        return f"{self.board.fullmove_number}. {COLOR_NAMES[self.board.turn]}> "

    def move_text(self, board: Board, move: Move) -> str:
        """A move legal on ``board`` in the display notation, with its ICCS."""
        return f"{render_move(board, move, self.notation)} ({move.uci()})"

    def numbered(self, board: Board, move: Move) -> str:
        dots = "." if board.turn == RED else "..."
        return f"{board.fullmove_number}{dots} {self.move_text(board, move)}"

    # -- the game -------------------------------------------------------------

    def ending(self) -> tuple[str, str, str] | None:
        """(result, termination, the ending in words) once the game is over."""
        if self.resigned:
            you, model = COLOR_NAMES[self.side].capitalize(), COLOR_NAMES[not self.side].capitalize()
            return ("0-1" if self.side == RED else "1-0"), "resignation", f"{model} wins: {you} resigned"
        outcome = self.board.outcome()
        if outcome is None:
            return None
        return outcome.result(), outcome.termination.value, outcome.describe()

    def start(self) -> None:
        """Show the board; the model moves first when it has the move."""
        self.say(f"You play {COLOR_NAMES[self.side]} against Xiangqi-GPT ({self.level}). "
                 "Type help for the commands.")
        if self.board.turn != self.side and self.ending() is None:
            self.model_move()
        self.show()

    def model_move(self) -> None:
        """The model plays its move at its level and shows the candidates it weighed."""
        move = choose_move(self.policy, self.board, self.level, self.rng, self.search)
        weighed = self.policy.candidates(self.board, k=N_CANDIDATES)
        self.say(f"Xiangqi-GPT plays {self.numbered(self.board, move)}")
        self.say("Model weighed: " + "  ".join(
            f"{render_move(self.board, m, self.notation)} {round(p * 100)}%" for m, p in weighed))
        self.board.push(move)

    def human_move(self, text: str) -> None:
        ending = self.ending()
        if ending is not None:
            self.say(f"The game is over ({ending[1]}); type new to start another, or undo.")
            return
        try:
            move = parse_move(self.board, text)
        except InvalidMoveError as e:
            self.say(f"{e} (type help for the commands)")
            return
        except AmbiguousMoveError:
            self.say(f"{text} is ambiguous: two of your pieces can make it; name the front or rear one "
                     "(+ or -, 前 or 后) or give the move in ICCS (h2e2)")
            return
        except XiangqiError:  # an illegal move
            if detect_notation(text) == "iccs":
                move = Move.from_uci(to_halfwidth(text).strip().replace("-", "").lower())
                self.say(f"{move.uci()} is illegal: {why_illegal(self.board, move)}")
            else:
                self.say(f"{text} is not a legal move here: no piece of yours can make it")
            return
        self.say(f"You play {self.numbered(self.board, move)}")
        self.board.push(move)
        if self.ending() is None:
            self.model_move()
        self.show()
        if self.ending() is not None:
            self.save()

    def undo(self) -> None:
        if self.resigned:
            self.say("The game is over (resignation); type new to start another.")
            return
        ours = [i for i in range(len(self.board.move_stack)) if self._mover(i) == self.side]
        if not ours:
            self.say("There is no move of yours to take back.")
            return
        while len(self.board.move_stack) > ours[-1]:
            self.board.pop()
        self.show()

    def _mover(self, ply: int) -> Color:
        """The side that made move ``ply`` of the stack."""
        first = Board(self.start_fen).turn
        return first if ply % 2 == 0 else not first

    def hint(self) -> None:
        """The search's best move for the side to move, as the web board's Hint gives it."""
        if self.ending() is not None:
            self.say("The game is over; there is nothing to hint.")
            return
        if self.analyser is None:
            from model.network import ModelLoadError

            from .analysis import Analyser

            try:
                self.analyser = Analyser.load(self.policy)
            except ModelLoadError as e:
                self.say(f"no hint: {e}")
                return
        analysis = self.analyser.position(self.board, nodes=HINT_NODES)
        best = analysis.lines[0]
        score = best.evaluation.score if self.board.turn == RED else 1 - best.evaluation.score
        self.say(f"Hint: {self.move_text(self.board, best.move)}, the search's best move "
                 f"(your expected score {score:.0%})")

    def candidates(self) -> None:
        if self.ending() is not None:
            self.say("The game is over; there are no candidates.")
            return
        self.say("The model's candidates for you:")
        for move, p in self.policy.candidates(self.board, k=N_CANDIDATES):
            self.say(f"  {p:6.1%}  {self.move_text(self.board, move)}")

    def resign(self) -> None:
        if self.ending() is not None:
            self.say("The game is already over.")
            return
        self.resigned = True
        self.say(self.status())
        self.save()

    def new(self, side: str | None) -> None:
        if side not in (None, "red", "black"):
            self.say(f"unknown side {side!r}; type new, new red or new black")
            return
        self.played = self.games()
        if side is not None:
            self.side = RED if side == "red" else BLACK
        self.board = Board(self.start_fen)
        if self.search is not None:
            self.search.clear()
        self.flipped = self.side == BLACK
        self.resigned = False
        self.save()
        self.start()

    # -- records --------------------------------------------------------------

    def record(self) -> Game:
        """The current game as a PGN game."""
        model = f"Xiangqi-GPT ({self.level})"
        headers = {"Event": "Xiangqi-GPT game", "Site": "xqgpt play",
                   "Date": datetime.date.today().strftime("%Y.%m.%d"),
                   "Red": "Human" if self.side == RED else model,
                   "Black": "Human" if self.side == BLACK else model}
        ending = self.ending()
        return Game(headers=headers, fen=self.start_fen, moves=list(self.board.move_stack),
                    result=ending[0] if ending else "*")

    def games(self) -> list[Game]:
        """The session's games: the earlier ones and the current one if it has begun."""
        current = [self.record()] if self.board.move_stack or self.resigned else []
        return self.played + current

    def save(self) -> bool:
        """Write the session's games to ``--pgn`` (when given and there are any); ``True`` when
        written."""
        games = self.games()
        if self.pgn_path is None or not games:
            return False
        try:
            Path(self.pgn_path).write_text("\n".join(write_game(g, "chinese") for g in games),
                                           encoding="utf-8")
        except OSError as e:
            self.say(f"cannot write {self.pgn_path}: {e.strerror}")
            return False
        return True

    def pgn(self, notation: str | None) -> None:
        notation = notation or self.notation
        if notation not in NOTATIONS:
            self.say(f"unknown notation {notation!r}; choose one of {', '.join(NOTATIONS)}")
            return
        self.say(write_game(self.record(), notation).rstrip("\n"))

    # -- input ----------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Act on one line of input; ``False`` when the person leaves."""
        words = line.split()
        if not words:
            return True
        command, arg = words[0].lower(), (words[1].lower() if len(words) > 1 else None)
        if command not in COMMANDS:
            self.human_move(line.strip())
        elif command in ("quit", "exit"):
            return False
        elif command == "help":
            self.say(HELP)
        elif command == "flip":
            self.flipped = not self.flipped
            self.show()
        elif command == "fen":
            self.say(self.board.fen())
        elif command == "pgn":
            self.pgn(arg)
        elif command == "undo":
            self.undo()
        elif command == "hint":
            self.hint()
        elif command == "candidates":
            self.candidates()
        elif command == "resign":
            self.resign()
        elif command == "new":
            self.new(arg)
        return True

    def run(self, read: Callable[[str], str], echo: bool = False) -> int:
        """Play until quit or end of input (0), or Ctrl-C (130); ``read`` is ``input``-like. With
        ``echo`` each line read is printed after the prompt (for input that is not a terminal)."""
        code = 0
        try:
            self.start()
            while True:
                try:
                    line = read(self.prompt())
                except EOFError:
                    self.say()
                    break
                if echo:
                    self.say(line)
                if not self.handle(line):
                    break
        except KeyboardInterrupt:
            self.say("\nInterrupted.")
            code = 130
        if self.save():
            self.say(f"Games written to {self.pgn_path}.")
        return code


# -- why a move is illegal ----------------------------------------------------

RULES = {  # how each piece moves, for a move its piece cannot make
    GENERAL: "a general moves one point along a file or a rank, inside its palace",
    ADVISOR: "an advisor moves one point diagonally, inside its palace",
    ELEPHANT: "an elephant moves two points diagonally and never crosses the river",
    HORSE: "a horse moves one point along a file or a rank, then one diagonally outwards",
    CHARIOT: "a chariot moves any distance along a file or a rank",
    CANNON: "a cannon moves along a file or a rank, and captures by jumping over exactly one piece",
    SOLDIER: "a soldier moves one point forwards (sideways too once across the river), never back",
}


def _between(board: Board, frm: Square, to: Square) -> list[Square]:
    """The occupied squares strictly between ``frm`` and ``to`` on one file or rank."""
    df, dr = square_file(to) - square_file(frm), square_rank(to) - square_rank(frm)
    steps = max(abs(df), abs(dr))
    step = (df > 0) - (df < 0) + 9 * ((dr > 0) - (dr < 0))
    return [frm + i * step for i in range(1, steps) if board.piece_at(frm + i * step) is not None]


def _cannot_go(board: Board, frm: Square, to: Square) -> str | None:
    """Why the piece on ``frm`` cannot move to ``to`` by its own rule (blockers included), or None."""
    piece = board.piece_at(frm)
    kind, red = piece.piece_type, piece.color == RED
    df, dr = square_file(to) - square_file(frm), square_rank(to) - square_rank(frm)
    forward = dr if red else -dr
    in_palace = 3 <= square_file(to) <= 5 and (square_rank(to) <= 2 if red else square_rank(to) >= 7)
    own_half = square_rank(to) <= 4 if red else square_rank(to) >= 5
    crossed = not (square_rank(frm) <= 4 if red else square_rank(frm) >= 5)
    straight = (df == 0) != (dr == 0)
    name = PIECE_NAMES[kind]
    if kind == GENERAL and not (abs(df) + abs(dr) == 1 and in_palace):
        return RULES[kind]
    if kind == ADVISOR and not (abs(df) == abs(dr) == 1 and in_palace):
        return RULES[kind]
    if kind == ELEPHANT:
        if not (abs(df) == abs(dr) == 2 and own_half):
            return RULES[kind]
        eye = frm + df // 2 + 9 * (dr // 2)
        if board.piece_at(eye) is not None:
            return f"the elephant's eye on {square_name(eye)} is blocked"
    if kind == HORSE:
        if sorted((abs(df), abs(dr))) != [1, 2]:
            return RULES[kind]
        leg = frm + (df // 2 if abs(df) == 2 else 9 * (dr // 2))
        if board.piece_at(leg) is not None:
            return f"the horse's leg on {square_name(leg)} is blocked"
    if kind in (CHARIOT, CANNON):
        if not straight:
            return RULES[kind]
        screens = _between(board, frm, to)
        if kind == CHARIOT and screens:
            return f"the {name} is blocked on {square_name(screens[0])}"
        if kind == CANNON and board.piece_at(to) is None and screens:
            return f"a cannon moves only over empty points; {square_name(screens[0])} is in the way"
        if kind == CANNON and board.piece_at(to) is not None and len(screens) != 1:
            return f"a cannon captures by jumping over exactly one piece ({len(screens)} between)"
    if kind == SOLDIER and not (abs(df) + abs(dr) == 1 and forward >= 0 and (forward == 1 or crossed)):
        return RULES[kind]
    return None


def why_illegal(board: Board, move: Move) -> str:
    """Why ``move`` is not legal on ``board``, in words (as the web board's target dots show)."""
    frm, to = move.from_square, move.to_square
    mover = COLOR_NAMES[board.turn].capitalize()
    piece = board.piece_at(frm)
    if piece is None:
        return f"there is no piece on {square_name(frm)}"
    name = PIECE_NAMES[piece.piece_type]
    if piece.color != board.turn:
        owner = COLOR_NAMES[piece.color].capitalize()
        return f"the {name} on {square_name(frm)} is {owner}'s; {mover} is to move"
    target = board.piece_at(to)
    if target is not None and target.color == board.turn:
        return f"your own {PIECE_NAMES[target.piece_type]} stands on {square_name(to)}"
    reason = _cannot_go(board, frm, to)
    if reason is not None:
        return f"{name} {square_name(frm)} to {square_name(to)}: {reason}"
    # The position after the move with the mover to move again: is its general attacked?
    pieces = {sq: p.symbol() for sq, p in board.squares() if sq != frm}
    pieces[to] = piece.symbol()
    rows = ["".join(pieces.get(rank * 9 + file, "1") for file in range(9)) for rank in range(9, -1, -1)]
    placement = "/".join(re.sub("1+", lambda ones: str(len(ones.group())), row) for row in rows)
    try:
        attacked = Board(f"{placement} {'w' if board.turn == RED else 'b'} - - 0 1").is_check()
    except XiangqiError:  # the generals would face each other on an open file
        return "the two generals would face each other on an open file"
    if attacked and board.is_check():
        return "your general is in check, and this move does not answer it"
    if attacked:
        return "it would leave your general in check"
    return "it is not legal here"  # the rules above cover every case; kept as a plain answer


class PipedLines:
    """``input``-like reader of lines from a pipe that Ctrl-C always interrupts.

    ``input()`` on a pipe can miss a SIGINT that arrives just before it blocks in ``read`` (the Python
    handler runs only between bytecodes), or one that the kernel hands to a torch thread. Here the
    signal also writes to a wake-up pipe, and the wait is a ``select`` on both pipes.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)

    def __call__(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd, self.wake_read], [], [])
            if self.wake_read in ready:
                os.read(self.wake_read, 512)  # the signal's handler runs as soon as this returns
            if self.fd in ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    if not self.buffer:
                        raise EOFError
                    self.buffer += b"\n"
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace").rstrip("\r")


def main(args: argparse.Namespace) -> int:
    """Entry point of ``xqgpt play``."""
    level = check_level(args.level)
    start_fen = Board(args.fen).fen() if args.fen else STARTING_FEN
    chinese = args.chinese or (not args.ascii and sys.stdout.isatty())
    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
    # Ctrl-C leaves the game even when started from a shell that ignores SIGINT (a background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("Loading the model...", flush=True)
    try:
        from model.policy import Policy

        policy = Policy.load(args.model)
        search = None
        if level in THINKING_MS:  # the model's own value net, else the shipped one (said here)
            value, note = value_net_for(args.model)
            if note:
                print(note, flush=True)
            search = Search(Networks(policy, value))
    except KeyboardInterrupt:
        return 130
    game = TerminalGame(policy, side=RED if args.side == "red" else BLACK, level=level,
                        start_fen=start_fen, chinese=chinese, out=sys.stdout, pgn_path=args.pgn,
                        search=search)
    return game.run(input if interactive else PipedLines(sys.stdin.fileno()), echo=not interactive)

