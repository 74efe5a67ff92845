"""The value net: the centipawn mapping, the side-to-move view, training on engine labels of the
fixture games, save/load, and the shipped net on clearly won positions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from data.dataset import load_split
from data.label import label, load_labels
from model.network import ModelLoadError
from model.options import ValueTrainConfig
from model.train_value import CALIBRATION, targets, train_value, value_loss, value_metrics
from model.value import (
    CP_SCALE,
    DRAW,
    LOSS,
    WIN,
    ValueConfig,
    ValueNet,
    cp_from_win_probability,
    expected_score,
    load_value,
    save_value,
    to_move_view,
    win_probability_from_cp,
)
from xiangqi import Board
from xiangqi.encoding import codes_array

FAIRY = "/usr/games/fairy-stockfish"
needs_fairy = pytest.mark.skipif(not Path(FAIRY).is_file(), reason="Fairy-Stockfish is not installed")

START = "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR"
# Black's a-file chariot and b-file horse are gone, nothing in return
UP_CHARIOT_HORSE = "2bakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR"
# Mate in 1 (Fairy-Stockfish: Mate(1)) with a chariot against a bare general, for Red (Re1-d1) and,
# turned and mirrored, for Black (Re8-f8)
MATES_IN_1 = ["3k5/9/9/9/9/9/9/9/4R4/4K4 w - - 0 1", "4k4/4r4/9/9/9/9/9/9/9/5K3 b - - 0 1"]


def test_cp_mapping():
    assert win_probability_from_cp(0) == 0.5
    assert win_probability_from_cp(100) == pytest.approx(0.591, abs=1e-3)  # lichess: +1 pawn = 59%
    cps = np.array([-900.0, -300.0, -50.0, 0.0, 50.0, 300.0, 900.0])
    p = win_probability_from_cp(cps)
    assert (np.diff(p) > 0).all() and np.allclose(p + p[::-1], 1)
    assert np.allclose(cp_from_win_probability(p), cps)
    assert cp_from_win_probability(0.75) == pytest.approx(CP_SCALE * np.log(3))
    assert 3000 < cp_from_win_probability(1.0) < 4000
    assert cp_from_win_probability(0.0) == pytest.approx(-cp_from_win_probability(1.0))


def test_side_to_move_view():
    """A position with Black to move looks, to the net, like its colour-flipped twin with Red to move."""
    black = Board("3ak4/9/9/9/9/9/9/9/4R4/3K5 b - - 0 1")
    red = Board("3k5/4r4/9/9/9/9/9/9/9/3AK4 w - - 0 1")
    assert np.array_equal(to_move_view(codes_array(black)[None], [False]), codes_array(red)[None])
    assert np.array_equal(to_move_view(codes_array(red)[None], [True]), codes_array(red)[None])
    net = ValueNet(ValueConfig(channels=8, layers=1, hidden=16))
    wdl = net.evaluate([black, red])
    assert wdl.shape == (2, 3) and np.allclose(wdl[0], wdl[1], atol=1e-6) and np.allclose(wdl.sum(1), 1)
    assert net.evaluate([]).shape == (0, 3)


def test_metrics_and_loss():
    wdl = np.array([[0.8, 0.2, 0.0], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    engine = np.array([0.95, 0.1, 0.5])
    result = np.array([WIN, DRAW, -1])
    m = value_metrics(wdl, engine, result)
    assert m["brier"] == pytest.approx(np.mean((expected_score(wdl) - engine) ** 2))
    assert (m["decisive_share"], m["decisive_accuracy"]) == (pytest.approx(2 / 3), 1.0)
    assert m["winner_accuracy"] == 1.0 and m["result_brier"] == pytest.approx((0.1 ** 2 + 0.25 ** 2) / 2)
    logits = torch.log(torch.tensor(wdl, dtype=torch.float32) + 1e-9)
    tensors = torch.tensor(engine, dtype=torch.float32), torch.tensor(result)
    both, engine_only, result_only = (value_loss(logits, *tensors, target).item()
                                      for target in ("both", "engine", "result"))
    assert both == pytest.approx(engine_only + result_only, rel=1e-5)


@pytest.fixture(scope="module")
def labelled_data(fixture_data, tmp_path_factory) -> Path:
    """A copy of the fixture dataset with depth-1 engine labels on each split."""
    data = Path(shutil.copytree(fixture_data, tmp_path_factory.mktemp("value") / "data"))
    for split, limit in (("train", 600), ("val", 100), ("test", 100)):
        label(str(data), FAIRY, split=split, depth=1, limit=limit, chunk=100, progress=False)
    return data


@needs_fairy
def test_train_value_loss_falls(labelled_data, tmp_path):
    out = tmp_path / "value"
    config = ValueTrainConfig(data=str(labelled_data), out=str(out), channels=8, layers=1, hidden=32,
                              batch_size=64, lr=3e-3, warmup=10, max_steps=150, eval_every=50, threads=1)
    record = train_value(config)
    boards, engine, result = targets(load_labels(labelled_data, "train"))

    def brier(net: ValueNet) -> float:  # the engine loss less its floor (the targets' own entropy)
        with torch.no_grad():
            wdl = torch.softmax(net(torch.from_numpy(boards)), -1).numpy()
        return value_metrics(wdl, engine, result)["brier"]

    torch.manual_seed(config.seed)
    fresh = ValueNet(ValueConfig(8, 1, hidden=32))
    assert brier(load_value(out)) < 0.7 * brier(fresh)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [50, 100, 150]
    assert record["test"]["positions"] == 100 and 0 <= record["test"]["brier"] < 0.25
    assert (out / CALIBRATION).stat().st_size > 1000 and (out / "curves.png").is_file()
    saved = json.loads((out / "config.json").read_text())
    assert saved["value"]["channels"] == 8 and saved["test"] == record["test"]


@needs_fairy
def test_train_value_on_results_uses_every_position(labelled_data, tmp_path):
    config = ValueTrainConfig(data=str(labelled_data), out=str(tmp_path / "v"), target="result", hidden=16,
                              batch_size=32, max_steps=20, eval_every=10, threads=1)
    record = train_value(config)
    assert record["train_positions"] == len(load_split(str(labelled_data), "train")["moves"]) > 600
    assert record["test"]["positions"] == 100


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    net = ValueNet(ValueConfig(channels=8, layers=2, head=4, hidden=16))
    save_value(net, tmp_path / "v", extra={"note": "x"})
    again = load_value(tmp_path / "v")
    boards = [Board(), Board(UP_CHARIOT_HORSE + " b - - 0 1")]
    assert np.array_equal(net.eval().evaluate(boards), again.evaluate(boards))
    assert again.config == net.config
    with pytest.raises(ModelLoadError, match="not a value-net directory"):
        load_value(tmp_path)
    (tmp_path / "v" / "model.safetensors").write_bytes(b"broken")
    with pytest.raises(ModelLoadError, match="cannot load value net"):
        load_value(tmp_path / "v")


@pytest.fixture(scope="module")
def shipped():
    return load_value()


def test_shipped_value_net_sees_material(shipped):
    """Up a chariot and a horse (Black's, gone from the start position): Red is favoured whichever
    side is to move (clearly with Red to move; only just with Black to move, a position unlike any
    of master games: model/README.md, "Value net"); the start position itself is near even."""
    up = [Board(UP_CHARIOT_HORSE + side) for side in (" w - - 0 1", " b - - 0 1")]
    wdl = shipped.evaluate([*up, Board(START + " w - - 0 1")])
    score = expected_score(wdl)
    assert score[0] > 0.75 and wdl[0, WIN] > 2 * wdl[0, LOSS]  # Red to move, Red up
    assert score[1] < 0.5 and wdl[1, LOSS] > wdl[1, WIN]       # Black to move, Black down
    assert 0.35 < score[2] < 0.75


def test_shipped_value_net_sees_mates_in_1(shipped):
    wdl = shipped.evaluate([Board(fen) for fen in MATES_IN_1])
    assert (expected_score(wdl) > 0.8).all() and (wdl[:, WIN] > 0.6).all()


def test_value_module_imports_no_training_code():
    code = ("import sys, model.value; bad = [m for m in ('model.train_value', 'model.plots', 'data.label', "
            "'data.dataset', 'matplotlib') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_material_about_to_be_won_moves_the_blended_value() -> None:
    """The search passes a leaf's capture gain (play.material.capture_gain) to the blend: a chariot
    about to be won is worth nearly as much as one already won."""
    net = load_value()
    board = Board()
    even = float(expected_score(net.evaluate([board]))[0])
    about_to_win = float(expected_score(net.evaluate([board], [9.0]))[0])
    assert about_to_win > even + 0.2
    net.blend = None  # without a blend the net reads the board alone
    assert float(expected_score(net.evaluate([board], [9.0]))[0]) == pytest.approx(
        float(expected_score(net.evaluate([board]))[0]))


def test_the_material_blend_knows_a_chariot_is_worth_a_game() -> None:
    """The shipped value net, fitted on master games, thinks a side a chariot down is nearly even;
    its material blend (fitted on engine-match positions) does not, for either side to move."""
    from model.value import expected_score, load_value

    no_chariot = "1nbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR"
    boards = [Board(f"{no_chariot} w - - 0 1"), Board(f"{no_chariot} b - - 0 1")]
    value = load_value()
    assert value.blend is not None
    blended = expected_score(value.evaluate(boards))
    value.blend = None
    alone = expected_score(value.evaluate(boards))
    assert blended[0] > 0.85 and blended[1] < 0.25  # Red, a chariot up, wins; Black, a chariot down, loses
    assert blended[0] > alone[0] and blended[1] < alone[1]
    wdl = load_value().evaluate(boards)
    assert np.allclose(wdl.sum(1), 1) and (wdl >= 0).all()
