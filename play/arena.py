"""``xqgpt arena``: matches between two players, with the score, Elo difference and PGN.

The two players swap colours every game; games ``2j`` and ``2j+1`` start from the same opening
(``--openings`` random plies from the start position), so deterministic players do not replay one
game and each opening is played from both sides. Games end by the rules (checkmate, stalemate,
perpetual check or chase, repetition, the move limit: ``Board``'s Asian rules) or at
``--max-plies`` (a draw). A player that fails
(an engine that crashes, times out or plays an illegal move) loses that game by forfeit.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import queue
import random
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass

from tqdm import tqdm

from xiangqi import STARTING_FEN, Board, Move
from xiangqi.engine import UciError
from xiangqi.pgn import Game, replay, write_game

from .players import Player, check_spec, make_player

DEFAULT_MAX_PLIES = 400
MAX_OPENING_PLIES = 60  # random plies before play; longer random games mostly end (and are drawn again)
OPENING_TRIES = 1000


@dataclass
class GameRecord:
    """One finished game; ``first_red`` tells which colour the first player (``--red``) had."""

    index: int
    first_red: bool
    moves: list[str]
    result: str
    termination: str
    opening_plies: int

    @property
    def first_score(self) -> float:
        """Points of the first player: 1, 0.5 or 0."""
        if self.result == "1/2-1/2":
            return 0.5
        return 1.0 if (self.result == "1-0") == self.first_red else 0.0


def random_opening(seed: str, plies: int) -> list[Move]:
    """``plies`` uniformly random moves from the start position that do not end the game; raises
    ``ValueError`` when :data:`OPENING_TRIES` random games all end sooner."""
    rng = random.Random(seed)
    for _ in range(OPENING_TRIES):
        board = Board()
        for _ in range(plies):
            board.push(rng.choice(board.legal_moves))
            if board.outcome() is not None:
                break
        else:
            return list(board.move_stack)
    raise ValueError(f"no random opening of {plies} plies found in {OPENING_TRIES} tries")


def play_game(red: Player, black: Player, opening: list[Move], max_plies: int) -> tuple[Board, str, str]:
    """Play one game from the opening; returns the final board, the PGN result and the termination."""
    board = Board()
    for move in opening:
        board.push(move)
    while True:
        outcome = board.outcome()
        if outcome is not None:
            return board, outcome.result(), outcome.termination.value
        if len(board.move_stack) >= max_plies:
            return board, "1/2-1/2", "ply_cap"
        player = red if board.turn else black
        try:
            move = player.choose(board.copy())
        except UciError as e:
            print(f"arena: {player.name} forfeits: {e}", file=sys.stderr)
            return board, ("0-1" if board.turn else "1-0"), "forfeit"
        if not board.is_legal(move):
            print(f"arena: {player.name} forfeits: illegal {move.uci()} in {board.fen()}", file=sys.stderr)
            return board, ("0-1" if board.turn else "1-0"), "forfeit"
        board.push(move)


def play_indexed(first: Player, second: Player, index: int, openings: int, seed: int,
                 max_plies: int) -> GameRecord:
    """Game ``index`` of a match: colours and opening follow from the index and the seed."""
    first_red = index % 2 == 0
    red, black = (first, second) if first_red else (second, first)
    red.new_game(seed * 1_000_000 + index * 2)
    black.new_game(seed * 1_000_000 + index * 2 + 1)
    opening = random_opening(f"{seed}-{index // 2}", openings)
    board, result, termination = play_game(red, black, opening, max_plies)
    return GameRecord(index, first_red, [m.uci() for m in board.move_stack], result, termination,
                      len(opening))


def _worker(specs: tuple[str, str], movetime: int, params: tuple[int, int, int], tasks, results) -> None:
    """A match process: builds both players once, plays the game indices it takes from ``tasks``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    players: list[Player] = []
    try:
        players = [make_player(spec, movetime) for spec in specs]
        while (index := tasks.get()) is not None:
            results.put(play_indexed(players[0], players[1], index, *params))
    except (UciError, ValueError, OSError) as e:  # a player that cannot start: reported as it is
        results.put(e)
    except Exception:
        results.put(traceback.format_exc())
    finally:
        for player in players:
            player.close()


def run_match(first: str, second: str, games: int, *, openings: int = 0, seed: int = 0,
              max_plies: int = DEFAULT_MAX_PLIES, movetime: int = 100, workers: int | None = None,
              progress: bool = True) -> list[GameRecord]:
    """Play ``games`` games between two player specs; ``workers`` processes (default: up to 2)."""
    for spec in (first, second):
        check_spec(spec)
    if not 0 <= openings <= MAX_OPENING_PLIES:
        raise ValueError(f"--openings must be from 0 to {MAX_OPENING_PLIES} plies, not {openings}")
    workers = max(1, min(workers or min(2, os.cpu_count() or 1), games))
    params = (openings, seed, max_plies)
    bar = tqdm(total=games, desc=f"{first} vs {second}", file=sys.stderr, disable=not progress)
    records: list[GameRecord] = []
    if workers == 1:
        players = [make_player(first, movetime), make_player(second, movetime)]
        try:
            for index in range(games):
                records.append(play_indexed(players[0], players[1], index, *params))
                bar.update()
        finally:
            for player in players:
                player.close()
            bar.close()
        return records
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    for index in range(games):
        tasks.put(index)
    for _ in range(workers):
        tasks.put(None)
    procs = [ctx.Process(target=_worker, args=((first, second), movetime, params, tasks, results))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    try:
        while len(records) < games:
            try:
                item = results.get(timeout=5)
            except queue.Empty:
                if not any(proc.is_alive() for proc in procs):
                    raise RuntimeError("the match processes died before the match ended") from None
                continue
            if isinstance(item, Exception):
                raise item
            if isinstance(item, str):
                raise RuntimeError(f"a match process failed:\n{item}")
            records.append(item)
            bar.update()
    finally:
        bar.close()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    return sorted(records, key=lambda r: r.index)


def elo(score: float) -> float:
    """Elo difference for an expected score strictly between 0 and 1."""
    return -400.0 * math.log10(1.0 / score - 1.0)


def elo_estimate(points: float, games: int) -> tuple[float, float, float]:
    """Elo difference and its 95% interval from a match score.

    The interval is the Wilson score interval of the score (draws counted as half points, which
    makes it slightly wide); a score of 0 or 1 is taken as half a point from it for the estimate.
    """
    half = 0.5 / games
    score = min(max(points / games, half), 1.0 - half)
    z = 1.959964
    p = points / games
    centre = (p + z * z / (2 * games)) / (1 + z * z / games)
    spread = z / (1 + z * z / games) * math.sqrt(p * (1 - p) / games + z * z / (4 * games * games))
    return elo(score), elo(max(centre - spread, half)), elo(min(centre + spread, 1.0 - half))


def summarize(records: list[GameRecord], first: str, second: str) -> dict:
    """The match summary: counts by colour and by player, score of the first player and Elo."""
    games = len(records)
    points = sum(r.first_score for r in records)
    diff, low, high = elo_estimate(points, games)
    return {
        "first": first,
        "second": second,
        "games": games,
        "red_wins": sum(r.result == "1-0" for r in records),
        "black_wins": sum(r.result == "0-1" for r in records),
        "draws": sum(r.result == "1/2-1/2" for r in records),
        "first_wins": sum(r.first_score == 1.0 for r in records),
        "second_wins": sum(r.first_score == 0.0 for r in records),
        "points": points,
        "score": round(points / games, 4),
        "elo_diff": round(diff, 1) + 0.0,  # no -0.0
        "elo_95": [round(low, 1) + 0.0, round(high, 1) + 0.0],
        "terminations": dict(Counter(r.termination for r in records)),
        "avg_plies": round(sum(len(r.moves) for r in records) / games, 1),
    }


def to_pgn(records: list[GameRecord], first: str, second: str) -> str:
    """All games as PGN (moves in ICCS), with the players, round, opening and termination."""
    texts = []
    for r in records:
        game = Game(headers={
            "Event": "xqgpt arena",
            "Round": str(r.index + 1),
            "Red": first if r.first_red else second,
            "Black": second if r.first_red else first,
            "Termination": r.termination,
            "OpeningPlies": str(r.opening_plies),
        }, fen=STARTING_FEN, moves=replay(STARTING_FEN, r.moves).move_stack, result=r.result)
        texts.append(write_game(game, notation="iccs"))
    return "\n".join(texts)


def main(args: argparse.Namespace) -> int:
    """Run ``xqgpt arena`` and print the summary; the last line is one JSON object."""
    if args.games < 1:
        raise ValueError("--games must be at least 1")
    start = time.monotonic()
    records = run_match(args.red, args.black, args.games, openings=args.openings, seed=args.seed,
                        max_plies=args.max_plies, movetime=args.movetime, workers=args.workers)
    summary = summarize(records, args.red, args.black)
    summary["seconds"] = round(time.monotonic() - start, 1)
    if args.pgn:
        with open(args.pgn, "w", encoding="utf-8") as f:
            f.write(to_pgn(records, args.red, args.black))
    if not args.json:
        print(f"{args.red} vs {args.black}: +{summary['first_wins']} ={summary['draws']} "
              f"-{summary['second_wins']} in {summary['games']} games, score {summary['score']:.3f}, "
              f"Elo {summary['elo_diff']:+.0f} [{summary['elo_95'][0]:+.0f}, {summary['elo_95'][1]:+.0f}]")
    print(json.dumps(summary))
    return 0
