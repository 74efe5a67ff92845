"""Puzzles: the shipped set (every line legal and ending in mate; a sample re-verified against
Fairy-Stockfish), building puzzles (from a labelled dataset and from the end of problems' lines),
themes, judging an attempt (another mate in one solves it), Glicko-2 (Glickman's worked example),
the API's ratings and the terminal's ``xqgpt puzzle``."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from data.puzzles import (
    SHIPPED_PUZZLES,
    Puzzle,
    Rating,
    glicko2_update,
    is_sacrifice,
    load_puzzles,
    play_attempt,
    rate_attempt,
    themes,
)
from server import create_app
from server.db import new_secret
from xiangqi import Board, IllegalMoveError, Move
from xiangqi.pgn import Game
from xiangqi.records import read_any

FAIRY = Path("/usr/games/fairy-stockfish")
ENDGAMES = Path(os.environ.get("XQGPT_SHARED", Path(__file__).resolve().parents[2] / "shared")) \
    / "data" / "xqf-endgames.tar.gz"
LINE_RECORDS = {"其它的杀着(15).xqf": 15, "残局攻杀谱_双车炮类(03).xqf": 5, "残局攻杀谱_车炮兵类(24).xqf": 11}
"""Problems of the archive's 残局攻杀谱 whose main line (of that many plies) ends in mate."""
SHIPPED_ID = "50b1b96c"  # a shipped puzzle: d8d9 e8d9 b7e7 c9e7 b8d7, two chariots given, the horse mates
TWO_CHARIOTS = {"id": "twochariots", "fen": "4k4/RR7/9/9/9/9/9/9/9/3K5 w - - 0 1", "moves": ["b8b9"]}
"""A puzzle of another file, without themes: b8b9 mates, and so does a8a9."""


@pytest.fixture(scope="module")
def puzzles() -> tuple[Puzzle, ...]:
    if not SHIPPED_PUZZLES.is_file():
        pytest.skip("the shipped puzzle set is not built")
    return load_puzzles()


def test_glickman_worked_example():
    """Glickman's 'Example of the Glicko-2 system': 1500/200/0.06 against 1400/30 (won),
    1550/100 (lost) and 1700/300 (lost) becomes 1464.06 / 151.52 / 0.05999."""
    r = glicko2_update(Rating(1500, 200, 0.06), [(Rating(1400, 30), 1), (Rating(1550, 100), 0),
                                                 (Rating(1700, 300), 0)])
    assert (round(r.rating, 2), round(r.rd, 2), round(r.volatility, 5)) == (1464.05, 151.52, 0.05999)


def test_an_attempt_moves_both_ratings():
    player, puzzle = Rating(1500, 200), Rating(1600, 150)
    won_player, won_puzzle = rate_attempt(player, puzzle, solved=True)
    lost_player, lost_puzzle = rate_attempt(player, puzzle, solved=False)
    assert won_player.rating > 1500 > lost_player.rating
    assert won_puzzle.rating < 1600 < lost_puzzle.rating
    assert won_player.rd < 200 and lost_player.rd < 200  # a game makes a rating surer
    # beating a much weaker puzzle is worth less than beating a stronger one
    assert rate_attempt(player, Rating(1200, 150), True)[0].rating - 1500 < won_player.rating - 1500


def _puzzle(puzzles, pid: str) -> Puzzle:
    return next(p for p in puzzles if p.id == pid)


def test_an_attempt_is_judged_along_the_line(puzzles):
    p = _puzzle(puzzles, SHIPPED_ID)
    assert play_attempt(p, [])[0] is None
    verdict, board = play_attempt(p, ["d8d9"])
    assert verdict is None and [m.uci() for m in board.move_stack] == ["d8d9", "e8d9"]  # the line's reply
    assert play_attempt(p, ["d8d9", "b7e7"])[0] is None
    verdict, board = play_attempt(p, ["d8d9", "b7e7", "b8d7"])
    assert verdict is True and board.is_checkmate()
    # a legal move off the line fails; the board is the position after it (later moves are not
    # looked at), the defender to move
    verdict, board = play_attempt(p, ["d8d9", "b7b6", "b8d7"])
    assert verdict is False and [m.uci() for m in board.move_stack] == ["d8d9", "e8d9", "b7b6"]
    with pytest.raises(IllegalMoveError, match="e1e3 is not a legal move"):
        play_attempt(p, ["e1e3"])


def test_another_mate_in_one_solves_the_puzzle():
    """As lichess: a move off the line that leaves the defender no legal move solves the puzzle
    (a8a9 mates; b8f8 leaves Black without a move, a loss in xiangqi); any other fails."""
    p = Puzzle("x", "4k4/RR7/9/9/9/9/9/9/9/3K5 w - - 0 1", ["b8b9"], ["mate1", "mate-by-chariot"], "")
    assert play_attempt(p, ["b8b9"])[0] is True
    verdict, board = play_attempt(p, ["a8a9"])
    assert verdict is True and board.is_checkmate()
    assert play_attempt(p, ["b8f8"])[0] is True
    assert play_attempt(p, ["a8a7"])[0] is False


def test_themes_mate_piece_and_sacrifice(puzzles):
    given = _puzzle(puzzles, SHIPPED_ID)
    assert themes(given.fen, given.moves) == ["mate3", "mate-by-horse", "sacrifice"]
    assert is_sacrifice(Board(given.fen), Move.from_uci("d8d9"))  # the advisor may take the chariot
    checks = _puzzle(puzzles, "85074c0f")  # the horse and the soldier check: nothing is given
    assert themes(checks.fen, checks.moves) == ["mate4", "mate-by-soldier"]
    # a chariot that takes a chariot and may be taken back: an exchange, not a sacrifice
    board = Board("3k5/9/3n5/9/4r4/4R4/9/9/9/5K3 w - - 0 1")
    assert not is_sacrifice(board, Move.from_uci("e4e5"))
    assert is_sacrifice(Board("3k5/9/9/4p4/9/4R4/9/9/9/5K3 w - - 0 1"), Move.from_uci("e4e5"))


def test_a_file_without_themes_loads(tmp_path, puzzles):
    """A puzzle file written before a theme was added: themes (and a missing source) come from
    the line; a line that is not a puzzle is named in the error."""
    old = tmp_path / "old.jsonl"
    p = _puzzle(puzzles, SHIPPED_ID)
    old.write_text(json.dumps({"id": p.id, "fen": p.fen, "moves": p.moves}) + "\n\n", encoding="utf-8")
    (loaded,) = load_puzzles(old)
    assert loaded.themes == ["mate3", "mate-by-horse", "sacrifice"] and loaded.source == ""
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(vars(p)) + "\n" + json.dumps({"id": "x", "fen": p.fen}) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl, line 2: not a puzzle \(KeyError"):
        load_puzzles(bad)


def test_every_shipped_line_is_legal_and_mates(puzzles):
    assert len(puzzles) >= 20
    assert len({p.id for p in puzzles}) == len(puzzles)
    for p in puzzles:
        board = Board(p.fen)
        solver = board.turn
        for uci in p.moves:
            move = Move.from_uci(uci)
            assert board.is_legal(move), (p.id, uci)
            board.push(move)
        assert not board.legal_moves and board.turn != solver, p.id  # the defender has no move left
        assert p.themes == themes(p.fen, p.moves) and p.themes[0] == f"mate{p.solver_moves}"
        assert p.solver_moves <= 5


needs_fairy = pytest.mark.skipif(not FAIRY.is_file(), reason=f"Fairy-Stockfish is not installed at {FAIRY} "
                                 "(apt-get install fairy-stockfish): the puzzles cannot be verified")


@needs_fairy
def test_a_sample_reverified_by_fairy_stockfish(puzzles):
    """Each sampled puzzle, searched again by the builder's own check (:func:`solve`): the
    engine's best move is the stored first move and the only one that mates, and its line mates
    in as many moves as the stored one (the stored line ending in mate is checked above)."""
    from data.puzzles_build import DEFAULT_ENGINE, MultiPvClient, solve
    from xiangqi.engine import EngineSpec, Limit

    sample = random.Random(0).sample(list(puzzles), 3)
    with MultiPvClient(EngineSpec.parse(DEFAULT_ENGINE), timeout=120.0) as engine:
        for p in sample:
            engine.new_game()
            line = solve(engine, Board(p.fen), Limit(depth=12), 5, Limit(depth=10))
            assert line is not None, f"{p.id} is no longer a puzzle for the engine"
            assert (line[0].uci(), len(line)) == (p.moves[0], len(p.moves)), (p.id, [m.uci() for m in line])


@needs_fairy
def test_puzzles_from_a_labelled_dataset_resume_without_searching_again(tmp_path, wxf15_paths, puzzles):
    """A dataset of two games, labelled by Fairy-Stockfish: the fixture game that ends in mate
    and a composed problem played out (its line as a game). The candidates are the positions
    whose label is a mate in 1..3 for the side to move; each is verified as a problem is. The
    problem's last two solver positions are kept; the game's two are not (the mate is not the
    only one). Every position searched is in ``OUT.checked``: a second run searches none."""
    from data.dataset import build
    from data.label import label, load_labels
    from data.puzzles_build import build_puzzles
    from xiangqi.pgn import read_pgn_file, write_game

    game = next(g for g in read_pgn_file(str(wxf15_paths["iccs"])) if g.end_board().is_checkmate())
    problem = _puzzle(puzzles, SHIPPED_ID)
    records = tmp_path / "games.pgn"
    records.write_text(write_game(game, "iccs") + f'\n[FEN "{problem.fen}"]\n\n{" ".join(problem.moves)} *\n')
    data = tmp_path / "mygames"
    build([str(records)], str(data), workers=1, val_percent=0, test_percent=0)
    label(str(data), str(FAIRY), split="train", depth=6, progress=False)
    labels = load_labels(data, "train")
    wins = int((labels["mate"] & (labels["score"] > 0) & (labels["score"] <= 3)).sum())
    assert wins == 4
    out = tmp_path / "puzzles.jsonl"
    first = build_puzzles([str(data)], str(out), depth=10, screen_depth=8, max_mate=3, limit=3)
    assert (first["positions"], first["searched"]) == (3, 3)
    whole = build_puzzles([str(data)], str(out), depth=10, screen_depth=8, max_mate=3)
    assert (whole["positions"], whole["skipped"], whole["searched"], whole["kept"]) == (4, 3, 1, 2)
    kept = load_puzzles(out)
    assert {p.source for p in kept} == {"games:mygames"}
    assert sorted(p.moves for p in kept) == [problem.moves[2:], problem.moves[4:]]
    assert {p.id: p.themes for p in kept} == {kept[0].id: themes(kept[0].fen, kept[0].moves),
                                              kept[1].id: themes(kept[1].fen, kept[1].moves)}
    checked = (tmp_path / "puzzles.jsonl.checked").read_text().split()
    assert len(checked) == len(set(checked)) == 4 and {p.id for p in kept} <= set(checked)
    again = build_puzzles([str(data)], str(out), depth=10, screen_depth=8, max_mate=3)
    assert (again["skipped"], again.get("searched", 0), again["kept"]) == (4, 0, 2)


@pytest.fixture(scope="module")
def line_records(tmp_path_factory) -> Path:
    """A folder with the :data:`LINE_RECORDS` problems, taken from the XQF archive."""
    if not ENDGAMES.is_file():
        pytest.skip(f"no XQF problem archive at {ENDGAMES} (expected ../shared/data beside the checkout)")
    folder = tmp_path_factory.mktemp("records")
    with tarfile.open(ENDGAMES) as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if name in LINE_RECORDS:
                (folder / name).write_bytes(tar.extractfile(member).read())
    assert sorted(p.name for p in folder.iterdir()) == sorted(LINE_RECORDS)
    return folder


def _record(folder: Path, name: str) -> Game:
    (game,) = read_any(name, (folder / name).read_bytes())
    return game


def _after(game, ply: int) -> Board:
    """The position after the first ``ply`` moves of a record's main line, without its history."""
    board = game.board()
    for move in game.moves[:ply]:
        board.push(move)
    return Board(board.fen())


def test_line_ends_are_the_mating_side_to_move(line_records):
    """The candidates at a mating line's end: 2k - 1 plies before it for k = 5 down to 1 (the
    start position among them when the line is short), each position without the line's history;
    a line that does not end in mate gives none."""
    from data.puzzles_build import line_ends

    plies = {}
    for name, length in LINE_RECORDS.items():
        game = _record(line_records, name)
        assert len(game.moves) == length and game.end_board().is_checkmate()
        ends = line_ends(game, 5)
        plies[name] = [ply for ply, _ in ends]
        for ply, board in ends:
            assert board.fen() == _after(game, ply).fen() and not board.move_stack
            assert board.turn != game.end_board().turn  # the mating side to move
        game.moves.pop()  # the line no longer ends in mate
        assert line_ends(game, 5) == []
    assert plies == {"其它的杀着(15).xqf": [6, 8, 10, 12, 14], "残局攻杀谱_双车炮类(03).xqf": [0, 2, 4],
                     "残局攻杀谱_车炮兵类(24).xqf": [2, 4, 6, 8, 10]}


@needs_fairy
def test_puzzles_from_the_end_of_a_problems_line(tmp_path, line_records):
    """Three real problems, at most two puzzles from each line's end: the start position of
    其它的杀着(15) is a mate in 8, too long, but its line's end 9 plies before the mate is a mate in 5,
    kept with the ply it starts at in its source, and so is its mate in 4; 双车炮类(03) is a mate in 3
    from its start, searched once, then its mate in 2; in 车炮兵类(24) neither the start nor the
    mates in 5, 4 and 3 of its line are puzzles (another move wins as well), its mates in 2 and 1
    are. Each puzzle starts with the record's move. A second run searches nothing."""
    from data.puzzles_build import build_puzzles

    out = tmp_path / "lines.jsonl"
    first = build_puzzles([str(line_records)], str(out))
    assert first == {"records": 3, "positions": 11, "searched": 11, "kept": 6, "line_puzzles": 3}
    kept = {p.source: p for p in load_puzzles(out)}
    assert {source: p.themes[0] for source, p in kept.items()} == {
        "其它的杀着(15).xqf, ply 6": "mate5", "其它的杀着(15).xqf, ply 8": "mate4",
        "残局攻杀谱_双车炮类(03).xqf": "mate3", "残局攻杀谱_双车炮类(03).xqf, ply 2": "mate2",
        "残局攻杀谱_车炮兵类(24).xqf, ply 8": "mate2", "残局攻杀谱_车炮兵类(24).xqf, ply 10": "mate1"}
    for source, p in kept.items():
        name, _, ply = source.partition(", ply ")
        game = _record(line_records, name)
        assert (p.fen, p.moves[0]) == (_after(game, int(ply or 0)).fen(), game.moves[int(ply or 0)].uci())
    assert len((tmp_path / "lines.jsonl.checked").read_text().split()) == 11
    again = build_puzzles([str(line_records)], str(out))
    assert again == {"records": 3, "positions": 11, "skipped": 11, "kept": 6, "line_puzzles": 3}


@pytest.fixture(scope="module")
def client(tmp_path_factory, shipped_policy, puzzles):
    db = tmp_path_factory.mktemp("puzzles") / "games.db"
    with TestClient(create_app(shipped_policy, f"sqlite:///{db}")) as c:
        yield c


def test_api_solved_and_failed_move_the_ratings(client, puzzles):
    me = {"X-Game-Secret": new_secret()}
    first = client.get("/api/puzzles/next", headers=me).json()
    assert first["player"] == {"rating": 1500, "rd": 350, "attempts": 0, "solved": 0}
    assert first["secret"] is None and Board(first["fen"]).turn == (first["turn"] == "red")
    solver_moves = first["moves"][::2]
    # an attempt that is not over is refused
    if len(solver_moves) > 1:
        r = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves[:1]}, headers=me)
        assert r.status_code == 422 and "not over" in r.json()["detail"]
    r = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves}, headers=me).json()
    assert r["solved"] and r["rated"] and r["player"]["rating"] > 1500 and r["player"]["attempts"] == 1
    assert r["puzzle"]["rating"] < first["rating"]["rating"] and r["solution"] == first["moves"]
    after_win = r["player"]["rating"]
    # the next puzzle is another one; a wrong first move fails it and the rating falls
    second = client.get("/api/puzzles/next", headers=me).json()
    assert second["id"] != first["id"] and second["player"]["rating"] == after_win
    wrong = next(m.uci() for m in Board(second["fen"]).legal_moves if m.uci() != second["moves"][0])
    r = client.post(f"/api/puzzles/{second['id']}/attempt", json={"moves": [wrong]}, headers=me).json()
    assert not r["solved"] and r["rated"] and r["player"]["rating"] < after_win
    assert r["puzzle"]["rating"] > second["rating"]["rating"]
    # trying a puzzle again is recorded but rated no more
    again = client.post(f"/api/puzzles/{first['id']}/attempt", json={"moves": solver_moves},
                        headers=me).json()
    assert again["solved"] and not again["rated"] and again["player"]["rating"] == r["player"]["rating"]


def test_api_gives_a_new_player_a_secret_and_rejects_unknown_puzzles(client):
    r = client.get("/api/puzzles/next").json()
    assert r["secret"] and r["player"]["attempts"] == 0
    assert client.post("/api/puzzles/nosuch/attempt", json={"moves": ["h2e2"]}).status_code == 404
    r = client.post(f"/api/puzzles/{r['id']}/attempt", json={"moves": "h2e2"})
    assert r.status_code == 422


def test_api_a_move_off_the_line_fails_and_the_search_answers(client, puzzles):
    me = {"X-Game-Secret": new_secret()}
    p = _puzzle(puzzles, SHIPPED_ID)
    r = client.post(f"/api/puzzles/{p.id}/attempt", json={"moves": ["d8d9", "b7b6"]}, headers=me).json()
    assert not r["solved"] and r["rated"] and r["solution"] == p.moves
    board = Board(p.fen)
    for uci in ("d8d9", "e8d9", "b7b6"):
        board.push_uci(uci)
    assert board.is_legal(Move.from_uci(r["answer"])), r["answer"]  # the defender's reply, shown on the board
    solved = client.post(f"/api/puzzles/{p.id}/attempt", json={"moves": p.moves[::2]}, headers=me).json()
    assert solved["solved"] and solved["answer"] is None
    gave_up = client.post(f"/api/puzzles/{p.id}/attempt", json={"moves": ["d8d9"], "gave_up": True},
                          headers=me).json()
    assert not gave_up["solved"] and gave_up["answer"] is None
    r = client.post(f"/api/puzzles/{p.id}/attempt", json={"moves": ["d8d9", "e1e3"]}, headers=me)
    assert r.status_code == 422 and "e1e3 is not a legal move" in r.json()["detail"]


def test_api_serves_another_puzzle_file_where_another_mate_solves(tmp_path, shipped_policy):
    """create_app(puzzles=FILE), as ``xqgpt serve --puzzles FILE``: its puzzles (themes computed
    when the file has none); a mate in one off the line solves the puzzle."""
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps(TWO_CHARIOTS) + "\n")
    db = f"sqlite:///{tmp_path / 'games.db'}"
    with TestClient(create_app(shipped_policy, db, puzzles=str(mine))) as c:
        first = c.get("/api/puzzles/next").json()
        assert first["id"] == "twochariots" and first["source"] == ""
        assert first["themes"] == ["mate1", "mate-by-chariot"]
        me = {"X-Game-Secret": first["secret"]}
        r = c.post("/api/puzzles/twochariots/attempt", json={"moves": ["a8a9"]}, headers=me).json()
        assert r["solved"] and r["rated"] and r["answer"] is None and r["player"]["rating"] > 1500
        assert c.get(f"/api/puzzles/{SHIPPED_ID}").status_code == 404
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with TestClient(create_app(shipped_policy, db, puzzles=str(empty))) as c:
        r = c.get("/api/puzzles/next")
        assert r.status_code == 503 and "no puzzle in" in r.json()["detail"]


def test_terminal_puzzle_solved_then_quit(tmp_path, puzzles):
    """``xqgpt puzzle`` with one puzzle: the solver's moves typed in, the rating kept in the file."""
    one = tmp_path / "one.jsonl"
    p = puzzles[0]
    one.write_text(json.dumps(vars(p), ensure_ascii=False) + "\n", encoding="utf-8")
    ratings = tmp_path / "ratings.json"
    typed = "\n".join(p.moves[::2]) + "\nquit\n"
    r = subprocess.run([sys.executable, "-m", "xqgpt", "puzzle", "--puzzles", str(one),
                        "--ratings", str(ratings)], input=typed, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Solved!" in r.stdout and "to move and win" in r.stdout
    saved = json.loads(ratings.read_text())
    assert saved["player"][0] > 1500 and saved["seen"] == [p.id]


def test_terminal_a_move_off_the_line(tmp_path, puzzles):
    """``xqgpt puzzle``: a wrong move is answered by the model's search and fails the puzzle;
    another mate in one solves it."""
    def run(puzzle: dict, typed: str) -> str:
        one = tmp_path / "one.jsonl"
        one.write_text(json.dumps(puzzle) + "\n", encoding="utf-8")
        ratings = tmp_path / f"{puzzle['id']}.json"
        r = subprocess.run([sys.executable, "-m", "xqgpt", "puzzle", "--puzzles", str(one), "--ratings",
                            str(ratings)], input=typed, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = run(vars(_puzzle(puzzles, SHIPPED_ID)), "d8d9\nb7b6\nquit\n")
    assert "Right. The defender plays" in out and "Wrong: R8-1 is not it. The defender answers " in out
    assert "Failed." in out
    out = run(TWO_CHARIOTS, "a8a9\nquit\n")
    assert "R9+1 mates as well." in out and "Solved!" in out
