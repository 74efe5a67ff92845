"""Analysis (play/analysis.py, ``xqgpt analyse``): evaluations from Red's side, judgements with
lichess's thresholds, NAGs and ``[%eval]`` comments that read back with the project's PGN reader,
and the CLI on a fixture game with the shipped model and value net (few nodes: 2 shared cores)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from play.analysis import (
    NAGS,
    SEEN_VISITS,
    Analyser,
    AnalysisLine,
    EngineAnalyser,
    Evaluation,
    MoveReview,
    PositionAnalysis,
    annotate,
    evaluate,
    judge,
    line_evaluations,
    lookahead,
    one_ply,
    review_move,
)
from play.search import Search
from xiangqi import BLACK, RED, Board, Move
from xiangqi.pgn import NOTATIONS, Game, read_games, read_pgn_file, write_game

ROOT = Path(__file__).resolve().parents[1]
# Red mates in 1 (one of tests/test_value.py's positions)
MATE_IN_1 = "3k1ab2/4a4/1c1Nb1n2/4C3p/6p2/9/3c4P/3CB4/9/2BAKA3 w - - 0 1"
POSITION_KEYS = {"fen", "eval", "nodes", "lines"}
EVAL_KEYS = {"wdl", "cp", "mate"}
GAME_KEYS = {"headers", "fen", "result", "nodes", "start", "summary", "moves"}
MOVE_KEYS = {"ply", "side", "move", "best", "pv", "eval", "loss", "judgement"}


def xqgpt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xqgpt.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)


def test_nags_read_and_write_back():
    game = next(read_games("1. h2e2?! $14 h9g7 $2 2. h0g2?? (2. b0c2! {best} c9e7!?) i9h9 *"))
    assert game.nags == {0: [6, 14], 1: [2], 2: [4]}
    assert game.variations[0].nags == {0: [1], 1: [5]}
    for notation in NOTATIONS:
        text = write_game(game, notation)
        again = next(read_games(text))
        assert (again.moves, again.nags, again.comments) == (game.moves, game.nags, game.comments)
        assert again.variations == game.variations
    assert "炮二平五?! $14 马８进７?" in write_game(game, "chinese")


def test_judgements_follow_lichess_thresholds():
    # lichess: 0.1 / 0.2 / 0.3 of winning chances (-1..1) = 0.05 / 0.10 / 0.15 of the expected score
    assert [judge(x) for x in (0.0, 0.049, 0.05, 0.099, 0.10, 0.149, 0.15, 0.9)] == [
        None, None, "inaccuracy", "inaccuracy", "mistake", "mistake", "blunder", "blunder"]
    assert judge(0.5, best=True) is None


def test_a_drop_within_the_noise_is_unclear():
    """With the evaluator's noise, a mistake's threshold must be cleared by that much more."""
    assert [judge(x, noise=0.04) for x in (0.04, 0.06, 0.10, 0.139, 0.14, 0.2)] == [
        None, "inaccuracy", "unclear", "unclear", "mistake", "blunder"]
    assert judge(0.12, best=True, noise=0.04) is None


def test_evaluation_is_from_reds_side():
    black_to_move = Evaluation.of_side((0.7, 0.2, 0.1), None, BLACK)  # Black is better
    assert black_to_move.wdl == (0.1, 0.2, 0.7) and black_to_move.cp < -100
    assert black_to_move.score == pytest.approx(0.2)
    assert black_to_move.pgn() == f"{black_to_move.cp / 100:.2f}" and black_to_move.pgn().startswith("-")
    red_to_move = Evaluation.of_side((0.7, 0.2, 0.1), None, RED)
    assert red_to_move.cp == -black_to_move.cp
    assert Evaluation.of_side((1.0, 0.0, 0.0), 2, BLACK).pgn() == "#-2"
    assert Evaluation.of_side((1.0, 0.0, 0.0), 3, RED).pgn() == "#3"


def test_annotate_writes_evals_nags_and_best_lines(fixture_games):
    game = fixture_games[6]
    board = game.board()
    reviews = []
    for ply, move in enumerate(game.moves[:6]):
        judgement = [None, "inaccuracy", "mistake", "blunder", None, None][ply]
        best = [m for m in board.legal_moves if m != move][0]
        e = Evaluation((0.4, 0.3, 0.3), 17 * ply - 40, None)
        reviews.append(MoveReview(ply, "red" if board.turn == RED else "black", move, best, [best], e, e,
                                  0.2, judgement))
        board.push(move)
    game = replace(game, comments={3: "a comment of the record"})  # after moves[2]
    text = write_game(annotate(game, reviews), "chinese")
    again = next(read_games(text))
    assert again.moves == game.moves
    assert again.nags == {1: [NAGS["inaccuracy"]], 2: [NAGS["mistake"]], 3: [NAGS["blunder"]]}
    assert [again.comments[i + 1] for i in (0, 2, 4)] == [
        "[%eval -0.40]", "[%eval -0.06] a comment of the record", "[%eval 0.28]"]
    assert [(v.ply, v.moves, v.comments[0]) for v in again.variations] == [
        (r.ply, r.pv, f"{r.judgement}; best") for r in reviews if r.judgement]


@pytest.fixture(scope="module")
def analyser(shipped_policy) -> Analyser:
    return Analyser.load(shipped_policy)


def test_search_finds_a_mate_in_one(analyser):
    board = Board(MATE_IN_1)
    analysis = analyser.position(board, nodes=64)
    assert analysis.evaluation.mate == 1 and analysis.evaluation.pgn() == "#1"
    value = analyser.search.networks.value
    assert evaluate(value, board).mate == 1 and one_ply(value, board).mate == 1  # without the search too
    board.push(analysis.best)
    assert board.is_checkmate()


def test_finished_game_is_exact(analyser):
    board = Board(MATE_IN_1)
    board.push(next(m for m in board.legal_moves if _mates(board, m)))
    analysis = analyser.position(board, nodes=8)
    assert analysis.lines == [] and analysis.evaluation == Evaluation((1.0, 0.0, 0.0), None, None)


def test_a_mistake_the_search_before_did_not_see_is_unclear():
    """review_move: a drop of 0.2 from the position before to the position after is a blunder,
    unless the search before the move gave it SEEN_VISITS playouts and saw it lose less than 0.10."""
    move, best = Move.from_uci("h2e2"), Move.from_uci("b2e2")

    def analysis(red_score: float, lines: list[tuple[Move, float, int]]) -> PositionAnalysis:
        def ev(x: float) -> Evaluation:
            return Evaluation((x, 0.0, 1 - x), None, None)

        return PositionAnalysis(ev(red_score), [AnalysisLine(m, ev(x), [m], n) for m, x, n in lines], 200)

    after = analysis(0.35, [])
    cases = [(None, "blunder"), ((move, 0.52, SEEN_VISITS - 1), "blunder"),
             ((move, 0.52, SEEN_VISITS), "unclear"), ((move, 0.30, SEEN_VISITS), "blunder")]
    for played_line, judgement in cases:
        before = analysis(0.55, [(best, 0.55, 150)] + ([played_line] if played_line else []))
        review = review_move(0, move, RED, before, after)
        assert (review.loss, review.judgement) == (pytest.approx(0.2), judgement), played_line
    assert review_move(0, best, RED, analysis(0.55, [(best, 0.55, 150)]), after).judgement is None


def test_the_same_position_gets_the_same_evaluation(analyser):
    """Stable: a position searched again, after others, by another move order or by a fresh
    analyser over the same networks, reads the same (the tree is not carried over)."""
    board = Board()
    for move in ("h2e2", "h9g7", "b0c2"):
        board.push_uci(move)
    first = analyser.position(board, nodes=16)
    analyser.position(Board(), nodes=16)
    other_order = Board()
    for move in ("b0c2", "h9g7", "h2e2"):
        other_order.push_uci(move)
    assert analyser.position(other_order, nodes=16).evaluation == first.evaluation
    fresh = Analyser(Search(analyser.search.networks)).position(board, nodes=16)
    assert fresh.evaluation == first.evaluation and fresh.best == first.best
    assert analyser.position(board, nodes=32).nodes == 32  # another budget is searched anew


def test_the_evaluation_is_the_value_net_two_plies_ahead(analyser):
    """A line's evaluation (one_ply) is the mean of the value net's view of the position after its
    move and of the position after the best reply; line_evaluations gives every legal move's, in
    one batch, and the position's evaluation is its best line's."""
    value = analyser.search.networks.value
    board = Board()
    board.push_uci("h2e2")
    own, after = lookahead(value, board)
    assert set(after) == set(board.legal_moves) and all(e.mate is None for e in after.values())
    best = min(after.values(), key=lambda e: e.score)  # Black to move
    assert one_ply(value, board).score == pytest.approx((own.score + best.score) / 2, abs=1e-6)
    lines = line_evaluations(value, board)
    assert set(lines) == set(board.legal_moves)
    for move in list(board.legal_moves)[:5]:
        board.push(move)
        assert lines[move].score == pytest.approx(one_ply(value, board).score, abs=1e-5)
        board.pop()
    assert evaluate(value, board) == min(lines.values(), key=lambda e: e.score)
    analysis = analyser.position(board, nodes=16, multipv=3)
    assert analysis.evaluation == evaluate(value, board)
    assert [line.evaluation for line in analysis.lines] == [lines[line.move] for line in analysis.lines]


def test_the_evaluation_sees_a_chariot_taken(analyser):
    """Both chariots on the open f-file, Red to move: Red takes Black's chariot for nothing. One ply
    ahead and two, the capture is the best move and Red is winning."""
    board = Board()
    for move in ("i0i1", "a9a8", "i1f1", "a8f8"):
        board.push_uci(move)
    value = analyser.search.networks.value
    own, after = lookahead(value, board)
    taken = after[Move.from_uci("f1f8")]
    assert max(after.values(), key=lambda e: e.score) == taken and taken.score > 0.65
    assert own.score > 0.65 and one_ply(value, board).score > 0.65
    lines = line_evaluations(value, board)
    assert max(lines, key=lambda m: lines[m].score) == Move.from_uci("f1f8")
    assert evaluate(value, board).score > 0.65


def _mates(board: Board, move) -> bool:
    after = board.copy()
    after.push(move)
    return after.is_checkmate()


def test_analyse_fixture_game_reads_back(wxf15_paths, tmp_path):
    """``xqgpt analyse`` on a fixture game (the 43-ply one, 1 node a position): the PGN it writes
    reads back with the same moves, an [%eval] after every move but the mate, and a NAG with a
    best line for each judged move."""
    game = read_pgn_file(str(wxf15_paths["iccs"]))[6]
    path = tmp_path / "game.pgn"
    path.write_text(write_game(game, "iccs"))
    proc = xqgpt("analyse", str(path), "--nodes", "1")
    assert proc.returncode == 0, proc.stderr
    again = next(read_games(proc.stdout))
    assert isinstance(again, Game) and again.moves == game.moves
    assert again.headers["Event"] == game.headers["Event"]
    mated = game.end_board().is_checkmate()  # no evaluation after the mating move: the game is over
    assert mated and sorted(again.comments) == list(range(1, len(game.moves)))
    assert all(c.startswith("[%eval ") for c in again.comments.values())
    judged = sorted(again.nags)
    assert all(nags[0] in NAGS.values() for nags in again.nags.values())
    assert judged == [v.ply for v in again.variations]


def test_analyse_json_keys(wxf15_paths, tmp_path):
    """A blunder found by the search: after 18 plies of fixture game 7, Red's f0e1 lets Black mate."""
    board = read_pgn_file(str(wxf15_paths["iccs"]))[7].board()
    for move in read_pgn_file(str(wxf15_paths["iccs"]))[7].moves[:18]:
        board.push(move)
    game = Game(headers={"Event": "blunder"}, fen=board.fen(), result="0-1",
                moves=[Move.from_uci("f0e1"), Move.from_uci("c3c0")])
    path = tmp_path / "blunder.pgn"
    path.write_text(write_game(game, "wxf"))
    proc = xqgpt("analyse", str(path), "--nodes", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    review = json.loads(proc.stdout)
    assert set(review) == GAME_KEYS and set(review["start"]) == EVAL_KEYS
    assert [set(m) for m in review["moves"]] == [MOVE_KEYS] * 2
    blunder, mate = review["moves"]
    assert (blunder["move"], blunder["side"], blunder["judgement"]) == ("f0e1", "red", "blunder")
    assert blunder["best"] != "f0e1" and blunder["eval"]["mate"] == -1 and blunder["loss"] >= 0.15
    assert (mate["move"], mate["judgement"], mate["eval"]) == ("c3c0", None, {"wdl": [0, 0, 1], "cp": None,
                                                                             "mate": None})
    assert review["summary"] == {"red": {"inaccuracy": 0, "mistake": 0, "blunder": 1, "unclear": 0},
                                 "black": {"inaccuracy": 0, "mistake": 0, "blunder": 0, "unclear": 0}}

    proc = xqgpt("analyse", MATE_IN_1, "--nodes", "64", "--multipv", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    position = json.loads(proc.stdout)
    assert set(position) == POSITION_KEYS and position["eval"]["mate"] == 1 and len(position["lines"]) == 2
    for line in position["lines"]:
        assert set(line) == {"move", "eval", "pv"} and line["pv"][0] == line["move"]


@pytest.mark.parametrize("source, words", [("not a fen", ["neither", "FEN"]), ("{empty}", ["no game"])])
def test_analyse_bad_source(tmp_path, source, words):
    (tmp_path / "empty.pgn").write_text("")
    proc = xqgpt("analyse", source.format(empty=tmp_path / "empty.pgn"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert all(w in proc.stderr for w in words), proc.stderr


FAIRY = "/usr/games/fairy-stockfish"
needs_fairy = pytest.mark.skipif(not Path(FAIRY).is_file(), reason="Fairy-Stockfish is not installed")


@needs_fairy
def test_engine_analyser_reviews_with_fairy_stockfish(wxf15_paths):
    """The review read from Fairy-Stockfish (depth 6): the blunder of fixture game 7 (f0e1 lets
    Black mate) is a blunder, the mate is found, evaluations are Red's, and none is "unclear"."""
    source = read_pgn_file(str(wxf15_paths["iccs"]))[7]
    board = source.board()
    for move in source.moves[:18]:
        board.push(move)
    game = Game(fen=board.fen(), moves=[Move.from_uci("f0e1"), Move.from_uci("c3c0")])
    analyser = EngineAnalyser(f"{FAIRY}?depth=6")
    try:
        blunder, mate = analyser.game(game)
        assert (blunder.move.uci(), blunder.side, blunder.judgement) == ("f0e1", "red", "blunder")
        assert blunder.after.mate is not None and blunder.after.mate < 0 and blunder.best != blunder.move
        assert mate.judgement is None and mate.after == Evaluation((0.0, 0.0, 1.0), None, None)
        start = analyser.position(Board(), 1)
        assert start.evaluation.cp is not None and 0.5 < start.evaluation.score < 0.65  # Red's first move
        assert start.best in Board().legal_moves and start.lines[0].pv == [start.best]
        assert analyser.position(Board(), 1) is start  # cached by position
    finally:
        analyser.close()


@needs_fairy
def test_analyse_with_an_engine(tmp_path):
    """``xqgpt analyse --engine uci:...`` reviews a game with the engine; a bad spec is one error line."""
    path = tmp_path / "opening.pgn"
    path.write_text("1. h2e2 h9g7 2. h0g2 i9h9 *\n")
    proc = xqgpt("analyse", str(path), "--engine", f"uci:{FAIRY}?depth=5", "--json")
    assert proc.returncode == 0, proc.stderr
    review = json.loads(proc.stdout)
    assert [m["move"] for m in review["moves"]] == ["h2e2", "h9g7", "h0g2", "i9h9"]
    assert all(m["judgement"] in (None, "inaccuracy", "mistake", "blunder") for m in review["moves"])
    proc = xqgpt("analyse", str(path), "--engine", "uci:/no/such/engine")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "engine" in proc.stderr
