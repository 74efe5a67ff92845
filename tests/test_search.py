"""The tree search: forced mates found and reported, the rules inside the tree (repetition,
perpetual check), the tree kept between moves, batched priors, the arena spec, and scripted
``xqgpt uci`` sessions at the search level (info, stop, go infinite, MultiPV).

The search runs here over small untrained networks (a real :class:`MoveGPT` and
:class:`ValueNet`, fast on the CPU): what is tested is the search itself, whose game ends are
exact whatever the networks say. The mate positions are composed problems from the XQF archive
(``xqf-endgames/残局攻杀谱``), their distance to mate confirmed by Fairy-Stockfish; the mates in
one are the mates in two after the first two moves of their solution.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model.network import ModelConfig, MoveGPT, save_model
from model.policy import Policy
from model.value import ValueConfig, ValueNet, save_value
from play.players import check_spec, make_player, search_options
from play.search import Limits, Networks, Search
from play.uci import go_limits
from xiangqi import BLACK, RED, Board, Move

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

MATES = {
    1: ["2b2a3/1N1ka4/4cc3/4C4/9/9/9/4B1n2/5p3/C3K1B2 w - - 2 2",
        "4k4/4a4/9/6R2/9/9/9/2nA5/7r1/4KA3 w - - 0 2"],
    2: ["2bk1a3/4a4/4cc3/2N1C4/9/9/9/4B1n2/5p3/C3K1B2 w - - 0 1",
        "4ka3/3Pa4/9/6R2/9/9/9/2nA5/7r1/4KA3 w - - 0 1",
        "2b1ka3/4a4/4b4/9/9/2R6/9/9/1r1p5/4K1C2 w - - 0 1"],
    3: ["2bak4/4aP3/4b4/9/9/9/9/5cR2/2p1p4/3K1p2C w - - 0 1"],
}


def small_policy() -> Policy:
    torch.manual_seed(0)
    return Policy(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=64)))


def small_value() -> ValueNet:
    torch.manual_seed(0)
    return ValueNet(ValueConfig(channels=8, layers=1)).eval()


@pytest.fixture(scope="module")
def search() -> Search:
    return Search(Networks(small_policy(), small_value()))


def mates_in(board: Board, n: int) -> bool:
    """The side to move mates (or wins by the rules) in at most ``n`` moves, by brute force."""
    us = board.turn
    for move in board.legal_moves:
        board.push(move)
        try:
            outcome = board.outcome()
            if outcome is not None:
                if outcome.winner == us:
                    return True
                continue
            if n > 1 and all(_after_reply(board, reply, us, n - 1) for reply in board.legal_moves):
                return True
        finally:
            board.pop()
    return False


def _after_reply(board: Board, reply: Move, us: bool, n: int) -> bool:
    board.push(reply)
    try:
        outcome = board.outcome()
        return outcome.winner == us if outcome is not None else mates_in(board, n)
    finally:
        board.pop()


@pytest.mark.parametrize(("n", "fen"), [(n, fen) for n, fens in MATES.items() for fen in fens])
def test_forced_mates_are_found_and_reported(search: Search, n: int, fen: str) -> None:
    board = Board(fen, strict=False)
    if n == 2:  # no shorter mate (brute force; for a mate in 3 it takes too long)
        assert not mates_in(board.copy(), 1) and mates_in(board.copy(), 2)
    result = search.run(board, Limits(nodes=3000))
    line = result.lines[0]
    assert line.score == f"mate {n}" and line.mate == n
    assert result.best == line.pv[0] and len(line.pv) == 2 * n - 1
    assert result.nodes < 3000  # proven: the search stopped early
    board.push(result.best)
    if n == 1:
        assert board.is_checkmate() or board.outcome().winner == RED
    else:
        assert all(_after_reply(board, r, RED, n - 1) for r in board.legal_moves)  # still a forced mate


def test_being_mated_is_reported_with_a_negative_distance(search: Search) -> None:
    board = Board(MATES[2][1], strict=False)
    board.push(Move.from_uci("d8e8"))  # the mate in two's first move: every Black reply is mated
    result = search.run(board, Limits(nodes=1000))
    assert [line.mate for line in result.lines] == [-1] and result.lines[0].score == "mate -1"
    assert board.is_legal(result.best)


def test_repetition_heavy_positions_end_and_never_loop(search: Search) -> None:
    """A chariot against a bare general: few moves, repeated positions and checks everywhere. The
    search plays legal moves within its budget until the rules end the game (mate, repetition,
    perpetual check or the move limit)."""
    board = Board("5k3/9/9/9/9/9/9/9/R8/3K5 w - - 0 1", max_plies_without_capture=40)
    while board.outcome() is None:
        result = search.run(board, Limits(nodes=16))
        assert board.is_legal(result.best) and result.nodes <= 16 + search.config.batch
        board.push(result.best)
    assert len(board.move_stack) <= 41


def test_a_position_already_repeated_is_searched(search: Search) -> None:
    board = Board()
    for _ in range(2):  # the start position twice more: the root repeats, its game goes on
        for text in ("h0g2", "h9g7", "g2h0", "g7h9"):
            board.push_uci(text)
    assert board.repetition_count() == 3 and board.outcome() is not None  # over by the rules
    board.pop()  # one ply before the third occurrence
    result = search.run(board, Limits(nodes=64))
    assert board.is_legal(result.best)
    board.push(result.best)
    assert board.outcome() is None or board.outcome().winner is None


def test_the_tree_is_kept_between_moves(search: Search) -> None:
    board = Board()
    first = search.run(board, Limits(nodes=96))
    reply = first.lines[0].pv[1] if len(first.lines[0].pv) > 1 else None
    assert reply is not None
    board.push(first.best)
    board.push(reply)
    kept = search._reuse(board.copy())
    assert kept.n > 0 and kept.parent is None  # the subtree of the line the search expected
    search.clear()
    assert search._reuse(board.copy()).n == 0


@pytest.mark.parametrize("mirror_average", [False, True])
def test_candidates_many_matches_candidates(fixture_games, mirror_average: bool) -> None:
    """With a window that holds the whole game, the batch answers as the cached policy does."""
    policy = small_policy()
    policy.mirror_average = mirror_average
    game = fixture_games[0]
    boards, board = [], Board()
    for move in game.moves[:9]:
        boards.append(board.copy())
        board.push(move)
    many = policy.candidates_many(boards, history=64)
    for b, batch in zip(boards, many, strict=True):
        one = policy.candidates(b)
        assert {m for m, _ in batch} == set(b.legal_moves)
        assert [m for m, _ in batch][:3] == [m for m, _ in one][:3]
        assert np.allclose(sorted(p for _, p in batch), sorted(p for _, p in one), atol=1e-4)


def test_go_limits() -> None:
    assert go_limits(["movetime", "250"], RED, 1000) == Limits(movetime=250)
    assert go_limits(["nodes", "800"], RED, 1000) == Limits(nodes=800)
    assert go_limits(["depth", "3"], RED, 1000) == Limits(mean_depth=3)
    assert go_limits(["infinite"], RED, 1000) == Limits(infinite=True)
    assert go_limits([], RED, 1000) == Limits(movetime=1000)
    # a 30th of the side's clock plus three quarters of its increment
    assert go_limits("wtime 60000 btime 3000 winc 1000 binc 0".split(), RED, 1000) == Limits(movetime=2750)
    assert go_limits("wtime 60000 btime 3000 winc 1000 binc 0".split(), BLACK, 1000) == Limits(movetime=100)


def test_search_specs() -> None:
    assert search_options("nodes=800") == {"nodes": "800"}
    assert search_options("movetime=500&value=DIR") == {"movetime": "500", "value": "DIR"}
    check_spec("model:search?nodes=8")
    check_spec("model:search?nodes=8&margin=0&exchange=1.5&tactics=0&mates=3")
    for bad, message in [("model:search", "needs a budget"), ("model:search?nodes=0", "positive integer"),
                         ("model:search?bogus=1", "bad search option"),
                         ("model:search?nodes=8&margin=-1", "number >= 0"),
                         ("model:search?nodes=8&exchange=inf", "number >= 0"),
                         ("model:search?nodes=8&exchange=x", "number >= 0"),
                         ("model:search?nodes=8&tactics=1.5", "integer >= 0"),
                         ("model:search?nodes=8&tactics=-1", "integer >= 0"),
                         ("model:search?nodes=8&mates=x", "integer >= 0")]:
        with pytest.raises(ValueError, match=message):
            check_spec(bad)


@pytest.fixture(scope="module")
def small_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """A small move model and value net on disk, for ``xqgpt uci`` and the arena."""
    d = tmp_path_factory.mktemp("nets")
    torch.manual_seed(0)
    save_model(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=64)), d / "policy")
    save_value(small_value(), d / "value")
    return d / "policy", d / "value"


def test_search_player(small_dirs) -> None:
    policy_dir, value_dir = small_dirs
    player = make_player(f"model:search?nodes=32&value={value_dir}@{policy_dir}")
    player.new_game(0)
    board = Board()
    for _ in range(4):
        move = player.choose(board)
        assert board.is_legal(move)
        board.push(move)
    assert player.name == f"model:search?nodes=32&value={value_dir}"
    options = "margin=0&exchange=2&tactics=1&mates=0"
    tuned = make_player(f"model:search?nodes=8&value={value_dir}&{options}@{policy_dir}")
    config = tuned.search.config
    assert (config.safe_margin, config.exchange, config.tactics_plies, config.mate_moves) == (0.0, 2.0, 1, 0)


def test_a_model_searches_with_its_own_value_net(small_dirs, tmp_path) -> None:
    """``--model DIR`` at a searching level reads DIR/value; a model without one gets the shipped
    value net and a note that says so; ``--value`` overrides both."""
    import shutil

    from play.search import value_net_for

    policy_dir, value_dir = small_dirs
    shipped, note = value_net_for(policy_dir)
    assert note is not None and "no value net" in note and str(policy_dir) in note
    assert shipped.config != small_value().config
    own = tmp_path / "model"
    shutil.copytree(policy_dir, own)
    save_value(small_value(), own / "value")
    value, note = value_net_for(own)
    assert note is None and value.config == small_value().config
    value, note = value_net_for(policy_dir, value_dir)
    assert note is None and value.config == small_value().config
    assert value_net_for(None)[1] is None  # the shipped model has its own


def uci_session(small_dirs, *commands: str) -> list[str]:
    policy_dir, value_dir = small_dirs
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [PY, "-m", "xqgpt.cli", "uci", "--model", str(policy_dir), "--value", str(value_dir),
               "--level", "expert"]
    return subprocess.run(command, input="\n".join(commands) + "\n", capture_output=True, text=True,
                          timeout=300, env=env).stdout.splitlines()


def infos(lines: list[str]) -> list[dict[str, str]]:
    """The ``info`` lines with a score, as dicts of their fields (``pv`` and ``wdl`` joined)."""
    out = []
    for line in lines:
        words = line.split()
        if words[:1] != ["info"] or "score" not in words:
            continue
        fields, key = {}, None
        for w in words[1:]:
            if w in ("depth", "seldepth", "multipv", "score", "wdl", "nodes", "nps", "time", "pv"):
                key, fields[w] = w, ""
            elif key is not None:
                fields[key] = (fields[key] + " " + w).strip()
        out.append(fields)
    return out


def test_uci_reports_info_and_plays_a_mate(small_dirs) -> None:
    # the input ends without quit (which stops a search): the search runs to its end first
    out = uci_session(small_dirs, "uci", "isready", f"position fen {MATES[2][0]}", "go nodes 3000")
    assert "option name MultiPV type spin default 1 min 1 max 10" in out
    assert any(line.startswith("option name Level") and "var expert" in line for line in out)
    lines = infos(out)
    assert lines and all(k in lines[-1] for k in ("depth", "seldepth", "score", "wdl", "nodes", "nps", "pv"))
    assert lines[-1]["score"] == "mate 2"
    assert sum(int(x) for x in lines[-1]["wdl"].split()) in (999, 1000, 1001)
    best = [line for line in out if line.startswith("bestmove")]
    assert best == [f"bestmove {lines[-1]['pv'].split()[0]}"]


def test_uci_multipv_and_dialect(small_dirs) -> None:
    out = uci_session(small_dirs, "uci", "setoption name MultiPV value 3", "setoption name MultiPV value 99",
                      "position startpos moves h3e3 h10g8", "go nodes 48")
    lines = infos(out)
    final = lines[-3:]
    assert [line["multipv"] for line in final] == ["1", "2", "3"]
    assert len({line["pv"].split()[0] for line in final}) == 3  # three different moves
    assert any("MultiPV must be 1..10, not 99" in line for line in out)
    move = [line.split()[1] for line in out if line.startswith("bestmove")][0]
    board = Board()
    board.push_uci("h2e2")
    board.push_uci("h9g7")
    from xiangqi.engine import Dialect, parse_move_text

    assert board.is_legal(parse_move_text(move, Dialect.RANKS_1_10))  # answered in the dialect asked
    assert move == final[0]["pv"].split()[0]


def test_uci_go_infinite_waits_for_stop(small_dirs) -> None:
    out = uci_session(small_dirs, "uci", "position startpos", "go infinite", "isready", "stop",
                      "position startpos moves h2e2", "go depth 2", "position startpos", "quit")
    best = [i for i, line in enumerate(out) if line.startswith("bestmove")]
    assert len(best) == 2
    assert out.index("readyok") < best[0]  # isready is answered while the search runs
    assert any(line.startswith("info") for line in out[:best[0]])  # the search reported before stopping
    assert int(infos(out)[-1]["depth"]) >= 2  # the next position waited for the finite search


def test_expert_level_mates_with_the_shipped_nets(shipped_policy) -> None:
    """The level ``expert`` (the shipped policy and value net, 1 s a move) plays a mate in one."""
    from play.levels import choose_move
    from play.search import value_net_for

    search = Search(Networks(shipped_policy, value_net_for(None)[0]))
    for fen in MATES[1]:
        board = Board(fen, strict=False)
        board.push(choose_move(shipped_policy, board, "expert", search=search))
        assert board.is_checkmate()
    with pytest.raises(ValueError, match="searches"):
        choose_move(shipped_policy, Board(), "expert")


def test_the_root_leaves_out_moves_that_hang_material() -> None:
    """Untrained networks rate every move alike; the root's safety check (play.material.unsafe_moves)
    leaves out the moves that leave the attacked chariot to the horse, and with the check off they
    are searched."""
    from play.material import unsafe_moves
    from play.search import SearchConfig

    board = Board("4k4/9/9/1n7/9/R8/8P/9/9/3K5 w - - 0 1")  # the horse on b6 attacks the chariot on a4
    unsafe = unsafe_moves(board)
    checked = Search(Networks(small_policy(), small_value()))
    result = checked.run(board, Limits(nodes=64))
    assert result.best not in unsafe
    kept = {c.move for c in checked.root.children}
    assert kept == set(board.legal_moves) - unsafe
    assert sum(c.prior for c in checked.root.children) == pytest.approx(1.0)
    plain = Search(Networks(small_policy(), small_value()), SearchConfig(safe_root=False))
    plain.run(board, Limits(nodes=16))
    assert {c.move for c in plain.root.children} == set(board.legal_moves)
