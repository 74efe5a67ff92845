"""The shipped model as a published artefact: its model card's metadata agrees with the measured
numbers, and from_pretrained / save_pretrained check the weights' sha256."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import torch
import yaml

from model.ensemble import Ensemble
from model.legality import LegalityConfig, LegalityNet
from model.network import CONFIG_FILE, MODEL_FILE, ModelConfig, ModelLoadError, MoveGPT, file_sha256
from model.policy import Policy
from model.value import ValueConfig, ValueNet

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "model" / "default"


def card() -> tuple[dict, str]:
    """The YAML front matter of model/default/README.md and the text after it."""
    text = (SHIPPED / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, "model/default/README.md must start with YAML front matter between --- lines"
    return yaml.safe_load(match.group(1)), match.group(2)


def bench_row(prefix: str) -> list[str]:
    """The cells of the bench/README.md table row that starts with ``prefix``."""
    for line in (ROOT / "bench" / "README.md").read_text().splitlines():
        if line.startswith(prefix):
            return [cell.strip().strip("*%") for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {prefix!r} in bench/README.md")


def test_card_metadata() -> None:
    meta, body = card()
    license_text = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    assert meta["license"] == license_text.lower()
    assert meta["library_name"] and "xiangqi" in meta["tags"] and meta["datasets"]
    for section in ("## Intended use", "## Loading", "## Evaluation", "## Limits", "## Training"):
        assert section in body
    clean, old, strength = meta["model-index"][0]["results"]
    rows = [(clean, bench_row("| none of whose copies it was trained on (clean)")[3:7]),
            (old, bench_row("| history, mirror-averaged, two models + legality net (as shipped)")[1:5])]
    for result, cells in rows:
        assert result["dataset"]["split"] == "test"
        values = {m["name"]: m["value"] for m in result["metrics"]}
        top1, top5, legal, loss = (float(x) for x in cells)
        assert values["top-1 accuracy"] == pytest.approx(top1 / 100)
        assert values["top-5 accuracy"] == pytest.approx(top5 / 100)
        assert values["unmasked argmax legal"] == pytest.approx(legal / 100)
        assert values["cross-entropy (nats a move)"] == pytest.approx(loss)
    scores = {m["name"]: m["value"] for m in strength["metrics"]}
    assert scores["master vs random"] == float(bench_row("| model:master | random | +20")[-1])
    assert scores["master vs greedy"] == float(bench_row("| model:master | greedy | +20")[-1])
    fairy = bench_row("| model:master | Fairy-Stockfish, Skill Level 0")[-1]
    assert scores["master vs Fairy-Stockfish Skill Level 0, movetime 50 ms"] == float(fairy)
    assert scores["club (the model's most likely move, no search) vs greedy"] == float(
        bench_row("| model:club | greedy | +8")[-1])


def test_shipped_weights_match_their_checksum() -> None:
    config = json.loads((SHIPPED / CONFIG_FILE).read_text())
    assert config["sha256"] == {MODEL_FILE: file_sha256(SHIPPED / MODEL_FILE)}
    ensemble = Ensemble.from_pretrained(SHIPPED)
    assert len(ensemble.members) == 2 and ensemble.legality is not None


def test_damaged_shipped_weights_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "default"
    copy.mkdir()
    shutil.copy(SHIPPED / CONFIG_FILE, copy)
    data = bytearray((SHIPPED / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight: the file still parses
    (copy / MODEL_FILE).write_bytes(bytes(data))
    damaged = "cannot load ensemble from .*: model.safetensors does not match the sha256 in config.json"
    with pytest.raises(ModelLoadError, match=damaged):
        Ensemble.from_pretrained(copy)
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        Policy.from_pretrained(copy)


def tamper(directory: Path) -> None:
    data = bytearray((directory / MODEL_FILE).read_bytes())
    data[-1] ^= 0x01
    (directory / MODEL_FILE).write_bytes(bytes(data))


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].float(), sb[k].float()) for k in sa)


@pytest.mark.parametrize("kind", ["move", "legality", "value"])
def test_save_and_load_pretrained(tmp_path: Path, kind: str) -> None:
    torch.manual_seed(0)
    net = {"move": lambda: MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=16)),
           "legality": lambda: LegalityNet(LegalityConfig(channels=8, layers=1, hidden=16)),
           "value": lambda: ValueNet(ValueConfig(channels=8, layers=1, head=4, hidden=16))}[kind]().eval()
    cls = type(net)
    net.save_pretrained(tmp_path / "net")
    config = json.loads((tmp_path / "net" / CONFIG_FILE).read_text())
    assert config["sha256"] == {MODEL_FILE: file_sha256(tmp_path / "net" / MODEL_FILE)}
    assert same_weights(net, cls.from_pretrained(tmp_path / "net"))
    # a directory written before checksums were recorded still loads
    del config["sha256"]
    (tmp_path / "net" / CONFIG_FILE).write_text(json.dumps(config))
    assert same_weights(net, cls.from_pretrained(tmp_path / "net"))
    net.save_pretrained(tmp_path / "net")
    tamper(tmp_path / "net")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        cls.from_pretrained(tmp_path / "net")
    with pytest.raises(ModelLoadError, match="is not a"):
        cls.from_pretrained(tmp_path / "missing")


def test_ensemble_save_pretrained(tmp_path: Path) -> None:
    torch.manual_seed(0)
    member = MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=16)).eval()
    Ensemble([member]).save_pretrained(tmp_path / "ens", extra={"inference": {"mirror_average": True}})
    config = json.loads((tmp_path / "ens" / CONFIG_FILE).read_text())
    assert config["sha256"] == {MODEL_FILE: file_sha256(tmp_path / "ens" / MODEL_FILE)}
    assert config["inference"] == {"mirror_average": True}
    assert len(Ensemble.from_pretrained(tmp_path / "ens").members) == 1
    tamper(tmp_path / "ens")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        Ensemble.from_pretrained(tmp_path / "ens")
