"""Review quality: the game review's evaluations and judgements against Fairy-Stockfish.

    nice -n 10 .venv/bin/python bench/review_quality.py --heldout runs/review/clean/test_clean.pgn \\
        [--engine-pgn bench/expert_skill3.pgn ...] [--windows 24] [--window 8] [--nodes 200] \\
        [--ref-depth 12] [--anchor-depth 8] [--tag NAME] [--cache runs/review] [--plot FILE] [--json]

The positions: ``--windows`` stretches of ``--window`` consecutive moves (``--window`` + 1
positions each), one a game, drawn with seed 0 from the held-out master games (``--heldout``, the
clean test split of ``scripts/clean_heldout.py``) and, every fourth stretch, from engine matches
(``--engine-pgn``: our search against Fairy-Stockfish, lopsided and tactical). Each position keeps
its game's history, as in a review.

Evaluators, each giving Red's expected score (win + draw / 2) of every position and its best move:

- ``reference``: Fairy-Stockfish at ``--ref-depth`` (a cleared hash a position; centipawns to
  expected score by :func:`model.value.win_probability_from_cp`, a mate is 1 or 0);
- ``anchor``: Fairy-Stockfish at ``--anchor-depth``, judged the same way;
- ``value net``: the shipped value net alone, no search (no best move: every drop is judged);
- ``one ply ahead``: :func:`play.analysis.one_ply`, how the review evaluates a move's line: the mean
  of the value net's view of a position and of its best move (that move never judged);
- ``two plies ahead``: the evaluation the review shows without its search,
  :func:`play.analysis.evaluate`: the best line's one-ply evaluation (that line's move never judged);
- ``review`` (tag ``--tag``): :class:`play.analysis.Analyser` at ``--nodes`` playouts, the
  positions of a stretch in order, as :meth:`~play.analysis.Analyser.game` reviews a game, and the
  stretch's middle position searched once more afterwards (``twice``: how far apart the two are).

Measures against the reference, over the unfinished positions: Spearman rank correlation and mean
absolute difference of Red's expected score; over the moves, precision and recall of the moves
judged a mistake or a blunder (a drop of at least 0.10 in the mover's expected score, the thresholds
of docs/analysis.md; an evaluator's best move is never judged) against the reference's own judgement
of the same moves. Engine labels are cached in ``CACHE/engine.jsonl`` (by FEN and depth), the
review's searches in ``CACHE/review_TAG.jsonl`` (by stretch and ply): an interrupted run resumes, a
rerun is cheap. A Markdown table goes to stdout, the last line is JSON, and ``--plot`` draws the
scatter of each evaluator against the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.value import win_probability_from_cp  # noqa: E402
from xiangqi import RED, Board, Move  # noqa: E402
from xiangqi.engine import Cp, EngineSpec, Limit, UciClient  # noqa: E402
from xiangqi.pgn import Game, read_pgn_file  # noqa: E402

FAIRY = "/usr/games/fairy-stockfish"
MISTAKE = 0.10  # the least drop of a mistake (docs/analysis.md); blunders (0.15) are mistakes too


@dataclass
class Stretch:
    """``window`` consecutive moves of one game from ply ``start``."""

    source: str  # "master" or "engine"
    game: Game
    start: int
    window: int

    @property
    def key(self) -> str:
        g = self.game
        return f"{g.headers.get('Event', '')}|{g.moves[0].uci()}|{len(g.moves)}|{self.start}"

    def boards(self) -> list[Board]:
        """The ``window + 1`` positions, each with the game's moves before it on its stack."""
        board = self.game.board()
        for move in self.game.moves[:self.start]:
            board.push(move)
        out = [board.copy()]
        for move in self.moves():
            board.push(move)
            out.append(board.copy())
        return out

    @property
    def middle(self) -> int:
        """The position searched twice."""
        return (self.window + 1) // 2

    def moves(self) -> list[Move]:
        return self.game.moves[self.start:self.start + self.window]


def stretches(heldout: Path, engine_pgns: list[Path], count: int, window: int,
              seed: int = 0) -> list[Stretch]:
    """``count`` stretches, one a game: three master games, then an engine game, and so on."""
    rng = np.random.default_rng(seed)
    pools = {}
    for source, paths in (("master", [heldout]), ("engine", engine_pgns)):
        games = [g for p in paths for g in read_pgn_file(str(p))
                 if isinstance(g, Game) and len(g.moves) > window]
        pools[source] = [games[i] for i in rng.permutation(len(games))]
    out = []
    for i in range(count):
        source = "engine" if i % 4 == 3 and pools["engine"] else "master"
        game = pools[source].pop(0)
        out.append(Stretch(source, game, int(rng.integers(0, len(game.moves) - window + 1)), window))
    return out


def red_score_of_engine(board: Board, cp: int | None, mate: int | None) -> float:
    """Red's expected score from an engine's score for the side to move."""
    own = (1.0 if mate > 0 else 0.0) if mate is not None else win_probability_from_cp(cp)
    return own if board.turn == RED else 1 - own


def exact_score(board: Board) -> float | None:
    """Red's score of a finished game, else None."""
    outcome = board.outcome()
    if outcome is None:
        return None
    return 0.5 if outcome.winner is None else 1.0 if outcome.winner == RED else 0.0


class Cache:
    """A JSON-lines file of records keyed by ``key``, appended as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.records[record["key"]] = record

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __getitem__(self, key: str) -> dict:
        return self.records[key]

    def add(self, record: dict) -> None:
        self.records[record["key"]] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")


def engine_labels(boards: list[Board], depths: list[int], cache: Cache) -> None:
    """Fairy-Stockfish's score and best move of every unfinished board at each depth, into ``cache``."""
    todo = [(b, d) for d in depths for b in boards
            if exact_score(b) is None and f"{b.fen()}|{d}" not in cache]
    if not todo:
        return
    with UciClient(EngineSpec.parse(FAIRY)) as client:
        for board, depth in tqdm(todo, desc="Fairy-Stockfish", unit="pos"):
            client.new_game()
            score, best = client.analyse(Board(board.fen()), Limit(depth=depth))
            cache.add({"key": f"{board.fen()}|{depth}", "cp": score.cp if isinstance(score, Cp) else None,
                       "mate": None if isinstance(score, Cp) else score.moves, "best": best and best.uci()})


def engine_view(boards: list[Board], depth: int, cache: Cache) -> list[tuple[float, str | None]]:
    """(Red's expected score, best move) of each board by the engine at ``depth``."""
    out = []
    for b in boards:
        exact = exact_score(b)
        if exact is not None:
            out.append((exact, None))
        else:
            r = cache[f"{b.fen()}|{depth}"]
            out.append((red_score_of_engine(b, r["cp"], r["mate"]), r["best"]))
    return out


def analysis_record(key: str, analysis) -> dict:
    """What the benchmark keeps of a :class:`~play.analysis.PositionAnalysis`."""
    return {"key": key, "score": analysis.evaluation.score, "nodes": analysis.nodes,
            "best": analysis.best and analysis.best.uci(),
            "lines": [[line.move.uci(), line.evaluation.score, line.visits] for line in analysis.lines]}


def review_stretch(analyser, stretch: Stretch, nodes: int, cache: Cache) -> None:
    """The review's analyses of a stretch's positions in order, and its middle position again."""
    boards = stretch.boards()
    for key, board in [(f"{stretch.key}|{i}", b) for i, b in enumerate(boards)] + [
            (f"{stretch.key}|again", boards[stretch.middle])]:
        if key not in cache:
            analysis = analyser.position(board, nodes, multipv=len(board.legal_moves) or 1)
            cache.add(analysis_record(key, analysis))


def analysis_of(record: dict | None, board: Board):
    """A :class:`~play.analysis.PositionAnalysis` again from a cached record (Red's expected
    scores kept; the draw share is not); the exact one of a finished game."""
    from play.analysis import AnalysisLine, Evaluation, PositionAnalysis

    if record is None:
        return PositionAnalysis(Evaluation.finished(board), [], 0)

    def ev(score: float) -> Evaluation:
        return Evaluation((score, 0.0, 1 - score), None, None)

    lines = [AnalysisLine(Move.from_uci(m), ev(sc), [Move.from_uci(m)], visits)
             for m, sc, visits in record["lines"]]
    return PositionAnalysis(ev(record["score"]), lines, record["nodes"])


def review_judgements(analyses: list, moves: list[Move], first_turn: bool,
                      noise: float | None) -> list[str | None]:
    """The review's judgement of each move (:func:`play.analysis.review_move`); with ``noise``
    None, as the review judged before "unclear" (:func:`play.analysis.judge` of the drop alone)."""
    from play.analysis import judge, review_move

    out = []
    for i, move in enumerate(moves):
        r = review_move(i, move, first_turn if i % 2 == 0 else not first_turn, analyses[i], analyses[i + 1],
                        noise or 0.0)
        out.append(judge(r.loss, move == r.best) if noise is None else r.judgement)
    return out


def drops(scores: list[float], bests: list[str | None], moves: list[Move], first_turn: bool) -> list[float]:
    """The drop in the mover's expected score of each move (0 for the evaluator's best move)."""
    out, turn = [], first_turn
    for i, move in enumerate(moves):
        drop = (scores[i] - scores[i + 1]) * (1 if turn == RED else -1)
        out.append(0.0 if move.uci() == bests[i] else drop)
        turn = not turn
    return out


def judged(scores: list[float], bests: list[str | None], moves: list[Move], first_turn: bool) -> list[bool]:
    """Which moves an evaluator calls a mistake or worse: a drop of at least :data:`MISTAKE` in the
    mover's expected score, the evaluator's best move excepted."""
    return [d >= MISTAKE for d in drops(scores, bests, moves, first_turn)]


ONE_PLY = "value net, one ply ahead (a line's evaluation, no search)"
TWO_PLIES = "value net, two plies ahead (the review's evaluation, no search)"
BUCKETS = (0.05, 0.08, 0.10, 0.12, 0.15, 0.20, 1.01)


def drop_buckets(ref: dict, other: dict) -> list[dict]:
    """For each range of an evaluator's drops (:data:`BUCKETS`), its moves and how many of them the
    reference calls a mistake or worse: where its drops stop being better than the base rate."""
    d, r = np.array(other["drops"]), np.array(ref["judged"])
    return [{"from": lo, "to": hi, "moves": int(((d >= lo) & (d < hi)).sum()),
             "reference_mistakes": int((r & (d >= lo) & (d < hi)).sum())}
            for lo, hi in zip(BUCKETS, BUCKETS[1:], strict=False)]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    def ranks(x: np.ndarray) -> np.ndarray:
        values, inverse = np.unique(x, return_inverse=True)
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        mean = np.bincount(inverse, r) / np.bincount(inverse)
        return mean[inverse]
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def measures(ref: dict, other: dict) -> dict:
    """Correlation, mean absolute difference, precision and recall of ``other`` against ``ref``."""
    live = np.array(ref["live"])
    a, b = np.array(ref["scores"])[live], np.array(other["scores"])[live]
    r, o = np.array(ref["judged"]), np.array(other["judged"])
    both = int((r & o).sum())
    return {"positions": int(live.sum()), "moves": len(r), "spearman": round(spearman(a, b), 3),
            "mad": round(float(np.abs(a - b).mean()), 4), "flagged": int(o.sum()),
            "ref_flagged": int(r.sum()),
            "agreed": both, "precision": round(both / o.sum(), 3) if o.sum() else None,
            "recall": round(both / r.sum(), 3) if r.sum() else None}


def plot(columns: dict[str, dict], ref: dict, table: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 4.4), squeeze=False)
    live = np.array(ref["live"])
    for ax, (name, col) in zip(axes[0], columns.items(), strict=True):
        m = table[name]
        ax.scatter(np.array(ref["scores"])[live], np.array(col["scores"])[live], s=8, alpha=0.5)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.set_xlabel("Fairy-Stockfish (reference): Red's expected score")
        ax.set_ylabel(f"{name}")
        ax.set_title(f"{name}\nρ {m['spearman']}, MAD {m['mad']}, P {m['precision']}, R {m['recall']}",
                     fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def review_game(args, nodes: int, noise: float, engine_cache: Cache, review_cache: Cache) -> None:
    """``--game``: the review of one game beside the reference, move by move (a Markdown table of
    the moves that either judges a mistake or worse, or calls unclear), and its measures."""
    from model.policy import Policy
    from play.analysis import Analyser
    from play.search import Search
    from xiangqi.notation import to_chinese
    from xiangqi.records import read_any

    game = next(g for g in read_any(args.game.name, args.game.read_bytes()) if isinstance(g, Game))
    moves = game.moves[:args.plies]
    board = game.board()
    boards = [board.copy()]
    for move in moves:
        board.push(move)
        boards.append(board.copy())
    engine_labels(boards, [args.ref_depth, args.anchor_depth], engine_cache)
    analyser = None
    order = [] if args.no_search else list(range(args.first, len(boards))) + list(range(min(args.first,
                                                                                              len(boards))))
    for i in tqdm(order, desc=f"review ({args.tag}, {nodes} playouts)", unit="pos"):
        b = boards[i]
        if f"{args.game.name}|{i}" not in review_cache and exact_score(b) is None:
            analyser = analyser or Analyser.load(Policy.load(), args.value)
            review_cache.add(analysis_record(f"{args.game.name}|{i}",
                                             analyser.position(b, nodes, multipv=len(b.legal_moves))))
    middle = len(boards) // 2
    again_key = f"{args.game.name}|again|{middle}"  # searched again by a fresh analyser: no cache, no tree
    if again_key not in review_cache and not args.no_search:
        fresh = Analyser(Search((analyser or Analyser.load(Policy.load(), args.value)).search.networks))
        again = fresh.position(boards[middle], nodes, multipv=len(boards[middle].legal_moves))
        review_cache.add(analysis_record(again_key, again))
    known = [f"{args.game.name}|{i}" in review_cache or exact_score(b) is not None
             for i, b in enumerate(boards)]
    analyses = [analysis_of(review_cache.records.get(f"{args.game.name}|{i}"), b) if known[i] else None
                for i, b in enumerate(boards)]
    both = [known[i] and known[i + 1] for i in range(len(moves))]  # the moves the review has judged
    ours = [review_judgements(analyses[i:i + 2], [m], boards[i].turn, noise)[0] if both[i] else None
            for i, m in enumerate(moves)]
    ref = engine_view(boards, args.ref_depth, engine_cache)
    anchor = engine_view(boards, args.anchor_depth, engine_cache)
    ref_judged = judged([s for s, _ in ref], [b for _, b in ref], moves, boards[0].turn)
    anchor_judged = judged([s for s, _ in anchor], [b for _, b in anchor], moves, boards[0].turn)
    print(f"\n{args.game.name}: {len(moves)} moves, the review at {nodes} playouts (noise {noise}) beside "
          f"Fairy-Stockfish depth {args.ref_depth}\n")
    print("| move | played | review: Red's score after | review: loss | review | Fairy-Stockfish: loss | "
          "its best | Fairy-Stockfish |")
    print("|---|---|---:|---:|---|---:|---|---|")
    for i, move in enumerate(moves):
        if not both[i]:
            continue
        sign = 1 if boards[i].turn == RED else -1
        our_loss = max(0.0, sign * (analyses[i].evaluation.score - analyses[i + 1].evaluation.score))
        ref_loss = max(0.0, sign * (ref[i][0] - ref[i + 1][0]))
        if ours[i] in ("mistake", "blunder", "unclear") or ref_judged[i]:
            best = Move.from_uci(ref[i][1]) if ref[i][1] else None
            print(f"| {i // 2 + 1}{'.' if sign > 0 else '...'} | {to_chinese(boards[i], move)} | "
                  f"{analyses[i + 1].evaluation.score:.2f} | {our_loss:.2f} | {ours[i] or '-'} | "
                  f"{ref_loss:.2f} | "
                  f"{to_chinese(boards[i], best) if best else '-'} | "
                  f"{'mistake or worse' if ref_judged[i] else '-'} |")
    pos = [i for i in range(len(boards)) if known[i]]
    mv = [i for i in range(len(moves)) if both[i]]
    ours_judged = [ours[i] in ("mistake", "blunder") for i in mv]
    ref_col = {"scores": [ref[i][0] for i in pos], "judged": [ref_judged[i] for i in mv],
               "live": [exact_score(boards[i]) is None for i in pos]}
    table = {"review": measures(ref_col, {"scores": [analyses[i].evaluation.score for i in pos],
                                          "judged": ours_judged}) | {"unclear": ours.count("unclear")},
             f"Fairy-Stockfish depth {args.anchor_depth}": measures(
                 ref_col, {"scores": [anchor[i][0] for i in pos], "judged": [anchor_judged[i] for i in mv]})}
    print("\n| evaluator | positions | ρ (Spearman) | mean abs. diff. | flagged | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, m in table.items():
        print(f"| {name} | {m['positions']} | {m['spearman']} | {m['mad']} | {m['flagged']} "
              f"(ref {m['ref_flagged']}, both {m['agreed']}) | {m['precision']} | {m['recall']} |")
    twice = None
    if again_key in review_cache and analyses[middle] is not None:
        twice = abs(review_cache[again_key]["score"] - analyses[middle].evaluation.score)
        print(f"\nposition {middle} searched again by a fresh analyser: |Δ| {twice:.4f}")
    print(json.dumps({"game": args.game.name, "moves": len(moves), "nodes": nodes, "noise": noise,
                      "table": table, "twice": twice}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", type=Path, default=Path("runs/review/clean/test_clean.pgn"))
    parser.add_argument("--engine-pgn", type=Path, nargs="*",
                        default=[Path("bench/expert_skill3.pgn"), Path("bench/expert_skill5.pgn")])
    parser.add_argument("--windows", type=int, default=24, help="stretches of consecutive moves")
    parser.add_argument("--window", type=int, default=8, help="moves a stretch")
    parser.add_argument("--nodes", type=int, default=None, help="the review's playouts (default: its own)")
    parser.add_argument("--ref-depth", type=int, default=12)
    parser.add_argument("--anchor-depth", type=int, default=8)
    parser.add_argument("--tag", default="review",
                        help="names the review's cache: one per version of the code")
    parser.add_argument("--review-windows", type=int, default=None,
                        help="review only the first N stretches (the search is the slow part)")
    parser.add_argument("--noise", type=float, default=None,
                        help="the review's noise margin (default: play.analysis.REVIEW_NOISE)")
    parser.add_argument("--seen", type=int, default=None,
                        help="playouts that make the view of a move count (play.analysis.SEEN_VISITS)")
    parser.add_argument("--plain", action="store_true",
                        help="judge as the review did before 'unclear': the drop alone")
    parser.add_argument("--game", type=Path, default=None,
                        help="review this game record (any format) move by move, beside the reference")
    parser.add_argument("--plies", type=int, default=None, help="with --game: only its first N moves")
    parser.add_argument("--first", type=int, default=0,
                        help="with --game: search from this position on first")
    parser.add_argument("--no-search", action="store_true",
                        help="with --game: only the table of the positions already searched")
    parser.add_argument("--value", type=Path, default=None,
                        help="the value net to measure (a directory; default: the shipped one)")
    parser.add_argument("--cache", type=Path, default=Path("runs/review"))
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()

    sample = [] if args.game else stretches(args.heldout, args.engine_pgn, args.windows, args.window)
    reviewed = sample[:len(sample) if args.review_windows is None else args.review_windows]
    engine_cache = Cache(args.cache / "engine.jsonl")
    depths = [args.ref_depth, args.anchor_depth]
    engine_labels([b for s in reviewed for b in s.boards()], depths, engine_cache)

    from model.policy import Policy
    from model.value import load_value
    from play.analysis import (
        DEFAULT_NODES,
        REVIEW_NOISE,
        Analyser,
        best_line,
        best_move,
        blend,
        line_evaluations,
        lookahead,
    )

    nodes = args.nodes or DEFAULT_NODES
    noise = None if args.plain else REVIEW_NOISE if args.noise is None else args.noise
    if args.seen is not None:
        import play.analysis

        play.analysis.SEEN_VISITS = args.seen
    review_cache = Cache(args.cache / f"review_{args.tag}.jsonl")
    if args.game:
        return review_game(args, nodes, noise, engine_cache, review_cache)
    if any(f"{s.key}|again" not in review_cache for s in reviewed):
        analyser = Analyser.load(Policy.load(), args.value)
        for stretch in tqdm(reviewed, desc=f"review ({args.tag}, {nodes} playouts)", unit="stretch"):
            review_stretch(analyser, stretch, nodes, review_cache)
    engine_labels([b for s in sample for b in s.boards()], depths, engine_cache)
    value = load_value(args.value)

    def column(stretch_list: list[Stretch], view, review: bool = False) -> dict:
        scores, bests, judgements, live, unclear, moved = [], [], [], [], 0, []
        for s in stretch_list:
            boards = s.boards()
            sc, be = zip(*view(s, boards), strict=True)
            scores += sc
            bests += be
            live += [exact_score(b) is None for b in boards]
            if review:
                names = review_judgements([analysis_of(review_cache.records.get(f"{s.key}|{i}"), b)
                                           for i, b in enumerate(boards)], s.moves(), boards[0].turn, noise)
                judgements += [n in ("mistake", "blunder") for n in names]
                unclear += names.count("unclear")
            else:
                judgements += judged(list(sc), list(be), s.moves(), boards[0].turn)
            moved += drops(list(sc), list(be), s.moves(), boards[0].turn)
        return {"scores": scores, "bests": bests, "judged": judgements, "live": live, "unclear": unclear,
                "drops": moved}

    def value_view(s: Stretch, boards: list[Board]) -> list[tuple[float, None]]:
        out = []
        for b in boards:
            exact = exact_score(b)
            if exact is None:
                win, draw, _ = value.evaluate([b])[0]
                own = float(win + draw / 2)
                exact = own if b.turn == RED else 1 - own
            out.append((exact, None))
        return out

    def ahead(evaluation: Callable[[Board], tuple[float, str]]):
        """The view of an evaluation of unfinished boards: (Red's expected score, best move)."""
        def view(s: Stretch, boards: list[Board]) -> list[tuple[float, str | None]]:
            return [(exact, None) if (exact := exact_score(b)) is not None else evaluation(b) for b in boards]
        return view

    def one_ply_ahead(b: Board) -> tuple[float, str]:
        own, after = lookahead(value, b)
        best = best_move(after, b.turn)
        return blend(own, after[best]).score, best.uci()

    def two_plies_ahead(b: Board) -> tuple[float, str]:
        lines = line_evaluations(value, b)
        return best_line(lines, b.turn).score, best_move(lines, b.turn).uci()

    def review_view(s: Stretch, boards: list[Board]) -> list[tuple[float, str | None]]:
        return [(review_cache[f"{s.key}|{i}"]["score"], review_cache[f"{s.key}|{i}"]["best"])
                for i in range(len(boards))]

    table, columns = {}, {}
    subsets = [("all", sample, False), ("reviewed", reviewed, True),
               ("reviewed, master games", [s for s in reviewed if s.source == "master"], True),
               ("reviewed, engine games", [s for s in reviewed if s.source == "engine"], True)]
    for subset, stretch_list, with_review in subsets:
        if not stretch_list:
            continue
        ref = column(stretch_list, lambda s, b: engine_view(b, args.ref_depth, engine_cache))
        cols = {f"Fairy-Stockfish depth {args.anchor_depth}":
                column(stretch_list, lambda s, b: engine_view(b, args.anchor_depth, engine_cache)),
                "value net alone": column(stretch_list, value_view),
                ONE_PLY: column(stretch_list, ahead(one_ply_ahead)),
                TWO_PLIES: column(stretch_list, ahead(two_plies_ahead))}
        if with_review:
            cols[f"review ({args.tag}, {nodes} playouts)"] = column(stretch_list, review_view, review=True)
        if subset == "reviewed":
            columns, ref_reviewed = cols, ref
        if subset == "all":
            buckets = drop_buckets(ref, cols[TWO_PLIES])
        table[subset] = {name: measures(ref, col) | {"unclear": col["unclear"]} for name, col in cols.items()}
    twice = [abs(review_cache[f"{s.key}|again"]["score"] - review_cache[f"{s.key}|{s.middle}"]["score"])
             for s in reviewed] or [float("nan")]
    summary = {"stretches": len(sample), "reviewed_stretches": len(reviewed), "window": args.window,
               "nodes": nodes, "noise": noise, "ref_depth": args.ref_depth, "tag": args.tag, "table": table,
               "twice_mean": round(float(np.mean(twice)), 4), "twice_max": round(float(np.max(twice)), 4),
               "twice_positions": len(reviewed), "two_ply_drops": buckets}
    if not args.json:
        for subset, rows in table.items():
            print(f"\n{subset} (stretches of {args.window} moves; reference: Fairy-Stockfish depth "
                  f"{args.ref_depth})\n")
            print("| evaluator | positions | ρ (Spearman) | mean abs. diff. | flagged | precision | recall |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for name, m in rows.items():
                print(f"| {name} | {m['positions']} | {m['spearman']} | {m['mad']} | {m['flagged']} "
                      f"(ref {m['ref_flagged']}, both {m['agreed']}) | {m['precision']} | {m['recall']} |")
        print("\nthe two-ply drops against the reference's mistakes (all stretches)\n")
        print("| drop | moves | the reference's mistakes |\n|---|---:|---:|")
        for b in buckets:
            print(f"| {b['from']:.2f}–{b['to']:.2f} | {b['moves']} | {b['reference_mistakes']} |")
        if reviewed:
            print(f"\nthe same position twice (review, {len(reviewed)} positions): "
                  f"mean |Δ| {summary['twice_mean']}, max {summary['twice_max']}")
    if args.plot and reviewed:
        plot(columns, ref_reviewed, table["reviewed"], args.plot)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
