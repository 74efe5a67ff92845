"""Build an opening explorer index (:mod:`data.explorer`) from game records.

The records are read and deduplicated as :func:`data.dataset.scan` does for a dataset (the same
game in several files or notations counts once, and of the copies of one game cut short or
continued only the longest counts). The position before each of a game's first ``plies``
moves is counted with the move played there, once per game (a game that comes back to a position
counts its first visit); a position enters the index when at least ``min_games`` games reached it,
with every move played there, so its games are the sum of its moves' games.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from xiangqi.limits import parse_int
from xiangqi.pgn import Game

from .dataset import ParsedGame, scan
from .explorer import SCHEMA, pack_moves, position_key

RESULT_INDEX = {"1-0": 0, "1/2-1/2": 1, "0-1": 2}
_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_SHORT_DATE_RE = re.compile(r"^(\d\d)[-./]\d\d?[-./]\d\d?$")


def game_year(date: str) -> int | None:
    """The year of a ``Date`` header: ``1963年8月15日``, ``2005.03.01``, or ``09-08-01`` (yy-mm-dd)."""
    m = _YEAR_RE.search(date)
    if m:
        return int(m.group(1))
    m = _SHORT_DATE_RE.match(date.strip())
    if m:
        yy = int(m.group(1))
        return 2000 + yy if yy < 50 else 1900 + yy
    return None


def _elo(headers: dict[str, str], name: str) -> int | None:
    return parse_int(headers.get(name, ""), 1, 3999)


def game_rating(red_elo: int | None, black_elo: int | None) -> int | None:
    """The players' mean rating, or the one rating the record has, or None."""
    elos = [e for e in (red_elo, black_elo) if e is not None]
    return round(sum(elos) / len(elos)) if elos else None


@dataclass
class _Tally:
    """Counts being summed: [games, red, draws, black, rating_sum, rated]."""

    counts: list[int]

    def add(self, result: int | None, rating: int | None) -> None:
        self.counts[0] += 1
        if result is not None:
            self.counts[1 + result] += 1
        if rating is not None:
            self.counts[4] += rating
            self.counts[5] += 1


def _new() -> _Tally:
    return _Tally([0, 0, 0, 0, 0, 0])


def _example_rank(game: Game) -> tuple:
    """Which games to show first: rated ones, the best rated, then the latest."""
    rating = game_rating(_elo(game.headers, "RedElo"), _elo(game.headers, "BlackElo"))
    year = game_year(game.headers.get("Date", "")) or 0
    return (rating is None, -(rating or 0), -year)


def build_index(sources: list[str], out: str, *, plies: int = 30, min_games: int = 3, examples: int = 3,
                example_min_games: int = 10, workers: int | None = None) -> dict:
    """Write the index of ``sources`` to the SQLite file ``out`` (replaced) and return its summary.
    Positions that at least ``example_min_games`` games reached keep ``examples`` example games."""
    if plies < 1 or min_games < 1 or examples < 0:
        raise ValueError("plies and min_games must be at least 1, examples at least 0")
    parsed: list[ParsedGame | None] = []
    summary, groups = scan(sources, workers or min(2, os.cpu_count() or 1), parsed.append)
    games: list[Game] = []
    for group in groups:
        g = parsed[group[0]]
        assert g is not None
        games.append(g.game())
        for i in group:
            parsed[i] = None
    # The example games of each position, best first (ranked once: sorting the games does it).
    games.sort(key=_example_rank)
    positions: dict[int, _Tally] = defaultdict(_new)
    moves: dict[tuple[int, str], _Tally] = defaultdict(_new)
    shown: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for index, game in enumerate(tqdm(games, desc="positions", unit="game", mininterval=1.0)):
        result = RESULT_INDEX.get(game.result)
        rating = game_rating(_elo(game.headers, "RedElo"), _elo(game.headers, "BlackElo"))
        board = game.board()
        seen: set[int] = set()
        for move in game.moves[:plies]:
            key = position_key(board)
            if key not in seen:
                seen.add(key)
                positions[key].add(result, rating)
                moves[(key, move.uci())].add(result, rating)
                if len(shown[key]) < examples:
                    shown[key].append((index, move.uci()))
            board.push(move)
    kept = {key for key, tally in positions.items() if tally.counts[0] >= min_games}
    shown = {key: games_ for key, games_ in shown.items()
             if key in kept and positions[key].counts[0] >= example_min_games}
    used = sorted({i for games_ in shown.values() for i, _ in games_})
    path = Path(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO moves VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        ((key, move, *tally.counts) for (key, move), tally in sorted(moves.items())
                         if key in kept))
        con.executemany("INSERT INTO examples VALUES (?, ?, ?, ?)",
                        ((key, rank, i, move) for key in sorted(shown)
                         for rank, (i, move) in enumerate(shown[key])))
        con.executemany("INSERT INTO games VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        ((i, games[i].headers.get("Red") or None, games[i].headers.get("Black") or None,
                          _elo(games[i].headers, "RedElo"), _elo(games[i].headers, "BlackElo"),
                          games[i].headers.get("Event") or None, game_year(games[i].headers.get("Date", "")),
                          games[i].result, games[i].fen, pack_moves(games[i].moves))
                         for i in used))
        rated = sum(1 for g in games if game_rating(_elo(g.headers, "RedElo"), _elo(g.headers, "BlackElo")))
        index_summary = {"sources": [Path(s).name for s in sources], "plies": plies, "min_games": min_games,
                         "games": len(games), "rated_games": rated, "positions": len(kept),
                         "moves": con.execute("SELECT count(*) FROM moves").fetchone()[0],
                         "example_games": len(used)}
        con.executemany("INSERT INTO meta VALUES (?, ?)",
                        ((k, json.dumps(v, ensure_ascii=False)) for k, v in index_summary.items()))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    os.replace(tmp, path)
    index_summary["bytes"] = path.stat().st_size
    return {"read": {k: summary[k] for k in ("files", "games", "accepted", "rejected", "unique")},
            "rejected_by_reason": summary["rejected_by_reason"], **index_summary}


__all__ = ["build_index", "game_rating", "game_year"]
