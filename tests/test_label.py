"""Engine labels: UciClient.analyse against the real Fairy-Stockfish, and `xqgpt data label` on a
dataset built from the fixture games (resumable, same labels when continued)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from data.dataset import load_split
from data.label import label, labels_dir, load_labels
from xiangqi import Board
from xiangqi.encoding import codes_fen, red_to_move
from xiangqi.engine import Cp, EngineSpec, Limit, Mate, UciClient, parse_score
from xiangqi.vocab import index_move
from xqgpt.cli import main

FAIRY = "/usr/games/fairy-stockfish"
needs_fairy = pytest.mark.skipif(not Path(FAIRY).is_file(), reason="Fairy-Stockfish is not installed")
MATE_IN_1 = "3k5/9/9/9/9/9/9/9/4R4/4K4 w - - 0 1"  # Re1-d1 (ICCS e1d1) mates


def test_parse_score():
    assert parse_score(["cp", "35", "nodes", "10"]) == Cp(35)
    assert parse_score(["mate", "-3"]) == Mate(-3)
    assert parse_score(["cp", "12", "lowerbound"]) == Cp(12)
    assert parse_score(["wdl", "1", "2", "3"]) is None
    assert parse_score(["cp"]) is None
    assert Cp(35).score(3000) == 35
    assert (Mate(2).score(3000), Mate(-1).score(3000), Mate(0).score(3000)) == (3000, -3000, -3000)


@needs_fairy
def test_analyse_with_fairy_stockfish():
    with UciClient(EngineSpec.parse(f"{FAIRY}?depth=4")) as client:
        score, move = client.analyse(Board(MATE_IN_1))
        assert score == Mate(1) and move.uci() == "e1d1"
        board = Board(MATE_IN_1)
        board.push(move)
        assert client.analyse(board) == (Mate(0), None)  # mated: no move, mate 0
        score, move = client.analyse(Board(), Limit(depth=3))
        assert isinstance(score, Cp) and abs(score.cp) < 400 and Board().is_legal(move)
        # Black to move and a chariot down: the score is for the side to move
        score, _ = client.analyse(Board("3ak4/9/9/9/9/9/9/9/4R4/3K5 b - - 0 1"))
        assert isinstance(score, Cp) and score.cp < -200


@pytest.fixture
def small_data(fixture_data, tmp_path) -> Path:
    """A private copy of the fixture dataset (labels are written inside it)."""
    return Path(shutil.copytree(fixture_data, tmp_path / "data"))


@needs_fairy
def test_label_split(small_data):
    summary = label(str(small_data), FAIRY, split="train", depth=2, limit=40, chunk=16, progress=False)
    assert (summary["labelled"], summary["new"], summary["interrupted"]) == (40, 40, False)
    labels = load_labels(small_data, "train")
    split = load_split(str(small_data), "train")
    idx = labels["index"]
    assert len(idx) == 40 and len(set(idx.tolist())) == 40
    assert idx.max() > len(split["moves"]) // 2  # an even sample, not the first positions
    assert np.array_equal(labels["boards"], split["boards"][idx])
    assert np.array_equal(labels["red"], red_to_move(split["boards"][idx], split["moves"][idx]))
    game = np.searchsorted(split["offsets"], idx, side="right") - 1
    assert np.array_equal(labels["result"], split["results"][game])
    for codes, red, best in zip(labels["boards"], labels["red"], labels["bestmove"], strict=True):
        assert Board(codes_fen(codes, bool(red))).is_legal(index_move(int(best)))
    assert (np.abs(labels["score"][~labels["mate"]]) < 3000).all()
    meta = json.loads((labels_dir(small_data, "train") / "meta.json").read_text())
    assert (meta["go"], meta["chunk"]) == ("go depth 2", 16)


@needs_fairy
def test_label_resumes_with_the_same_labels(small_data, tmp_path):
    other = Path(shutil.copytree(small_data, tmp_path / "other"))
    whole = label(str(other), FAIRY, split="val", depth=2, limit=48, chunk=16, progress=False)
    assert whole["new"] == 48

    # a first run of 40 positions (chunks of 16, 16 and 8) loses its first chunk and leaves a
    # half-written one; the second run of 48 redoes chunk 0, keeps chunk 1 and redoes chunk 2 in full
    label(str(small_data), FAIRY, split="val", depth=2, limit=40, chunk=16, progress=False)
    folder = labels_dir(small_data, "val")
    (folder / "chunk_00000.npz").unlink()
    (folder / "chunk_00002.npz.tmp.npz").write_bytes(b"partial")
    summary = label(str(small_data), FAIRY, split="val", depth=2, limit=48, chunk=16, progress=False)
    assert (summary["labelled"], summary["new"]) == (48, 32)
    a, b = load_labels(small_data, "val"), load_labels(other, "val")
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert label(str(small_data), FAIRY, split="val", depth=2, limit=48, chunk=16, progress=False)["new"] == 0

    with pytest.raises(ValueError, match="other settings"):
        label(str(small_data), FAIRY, split="val", depth=3, limit=48, chunk=16, progress=False)


@needs_fairy
def test_label_cli(small_data, capsys):
    assert main(["data", "label", str(small_data), "--engine", FAIRY, "--nodes", "200", "--split", "test",
                 "--limit", "8", "--workers", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["labelled"], summary["go"]) == (8, "go nodes 200")
    assert main(["data", "label", str(tmp := small_data / "missing"), "--depth", "2"]) == 2
    assert "not a dataset" in capsys.readouterr().err and not tmp.exists()
