"""Several trained move models answering as one, optionally with a learned legality net.

An :class:`Ensemble` averages the log-probabilities of its :class:`~model.network.MoveGPT`
members and, when it has a :class:`~model.legality.LegalityNet`, adds that net's log-probability
that each move is legal. It has the forward signature of ``MoveGPT`` (the KV cache is a list with
one cache per member), so :class:`~model.policy.Policy` and ``xqgpt eval`` use either.

``xqgpt combine --member DIR --member DIR [--legality DIR] --out DIR`` writes one model directory:
``config.json`` and a single ``model.safetensors``, whose member weights are stored as int8 with a
scale per row (:func:`quantize`) to keep the shipped file small.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from xiangqi import VOCAB_SIZE

from .legality import LegalityConfig, LegalityNet, load_legality
from .network import CONFIG_FILE, MODEL_FILE, ModelConfig, ModelLoadError, MoveGPT, load_model

SCALE_SUFFIX = ".int8_scale"


class Ensemble(nn.Module):
    """Members' log-probabilities averaged, plus the legality net's log P(legal) when present."""

    def __init__(self, members: list[MoveGPT], legality: LegalityNet | None = None) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first = members[0].config
        for m in members:
            c = m.config
            if c.tokenizer != "move" or c.n_positions != first.n_positions or not c.board:
                raise ValueError("ensemble members must be move-token models with a board input and "
                                 "the same n_positions")
        self.members = nn.ModuleList(members)
        self.legality = legality
        self.config = first  # what callers read: tokenizer and n_positions

    def forward(self, tokens: torch.Tensor, boards: torch.Tensor, sides: torch.Tensor, cache=None,
                position_ids=None, use_cache: bool = False):
        caches = cache if cache is not None else [None] * len(self.members)
        scores, new_caches = 0.0, []
        for member, member_cache in zip(self.members, caches, strict=True):
            logits, kv = member(tokens, boards, sides, cache=member_cache, position_ids=position_ids,
                                use_cache=use_cache)
            scores = scores + logits.float().log_softmax(-1)
            new_caches.append(kv)
        scores = scores / len(self.members)
        if self.legality is not None:
            legal = nn.functional.logsigmoid(self.legality(boards, sides))
            scores = torch.cat([scores[..., :VOCAB_SIZE] + legal, scores[..., VOCAB_SIZE:]], -1)
        return scores, (new_caches if use_cache else None)

    def without_legality(self) -> Ensemble:
        """The same members without the legality net (to measure what the net adds)."""
        return Ensemble(list(self.members)).eval()


def quantize(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A 2-D tensor -> int8 values and an fp32 scale per row (symmetric, round to nearest)."""
    scale = tensor.abs().amax(-1, keepdim=True).clamp_min(1e-12) / 127
    return (tensor / scale).round().clamp(-127, 127).to(torch.int8), scale.float()


def save_ensemble(ensemble: Ensemble, directory: str | Path, extra: dict | None = None) -> None:
    """Write the ensemble as one model directory; the members' 2-D weights as int8 (:func:`quantize`),
    their other tensors as fp16, the legality net in fp32."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {}
    for i, member in enumerate(ensemble.members):
        for k, v in member.state_dict().items():
            if k == "gpt.lm_head.weight":  # tied to the token embedding
                continue
            name = f"members.{i}.{k}"
            v = v.detach().cpu().float()
            if v.dim() == 2:
                state[name], state[name + SCALE_SUFFIX] = quantize(v)
            else:
                state[name] = v.half()
    if ensemble.legality is not None:
        for k, v in ensemble.legality.state_dict().items():
            state[f"legality.{k}"] = v.detach().cpu().float()
    save_file({k: v.contiguous() for k, v in state.items()}, str(d / MODEL_FILE))
    config = {"ensemble": {"members": [asdict(m.config) for m in ensemble.members],
                           "legality": asdict(ensemble.legality.config) if ensemble.legality else None},
              **(extra or {})}
    (d / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def _dequantized(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in state.items():
        if not k.startswith(prefix) or k.endswith(SCALE_SUFFIX):
            continue
        scale = state.get(k + SCALE_SUFFIX)
        out[k[len(prefix):]] = v.float() * scale if scale is not None else v.float()
    return out


def load_ensemble(directory: str | Path, device: str = "cpu") -> Ensemble:
    """Load a directory written by :func:`save_ensemble`; raises :class:`ModelLoadError`."""
    d = Path(directory)
    try:
        spec = json.loads((d / CONFIG_FILE).read_text())["ensemble"]
        state = load_file(str(d / MODEL_FILE))
        members = []
        for i, member_config in enumerate(spec["members"]):
            member = MoveGPT(ModelConfig(**member_config))
            member.load_state_dict(_dequantized(state, f"members.{i}."), strict=False)
            member.gpt.tie_weights()
            members.append(member)
        legality = None
        if spec.get("legality"):
            legality = LegalityNet(LegalityConfig(**spec["legality"]))
            legality.load_state_dict(_dequantized(state, "legality."))
        expected = {f"members.{i}.{k}" for i, m in enumerate(members) for k in m.state_dict()
                    if k != "gpt.lm_head.weight"}
        missing = expected - {k for k in state if not k.endswith(SCALE_SUFFIX)}
        if missing:
            raise ValueError(f"missing weights {sorted(missing)[:3]}")
        ensemble = Ensemble(members, legality)
    except ModelLoadError:
        raise
    except Exception as e:  # corrupt JSON, bad safetensors header, wrong shapes ...
        raise ModelLoadError(f"cannot load ensemble from {d}: {e}") from e
    return ensemble.to(device).eval()


def is_ensemble_dir(directory: str | Path) -> bool:
    """Whether a model directory holds an ensemble (``"ensemble"`` in its config)."""
    try:
        return "ensemble" in json.loads((Path(directory) / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return False


def load_any(directory: str | Path, device: str = "cpu") -> MoveGPT | Ensemble:
    """A single model or an ensemble, whichever the directory holds; raises :class:`ModelLoadError`."""
    return load_ensemble(directory, device) if is_ensemble_dir(directory) else load_model(directory, device)


def combine(args: argparse.Namespace) -> dict:
    """``xqgpt combine``: members (and a legality net) -> one ensemble model directory."""
    members = [load_model(m) for m in args.member]
    legality = load_legality(args.legality) if args.legality else None
    ensemble = Ensemble(members, legality)
    sources = {"members": list(args.member), "legality": args.legality}
    extra = {"sources": sources}
    if args.mirror_average:
        extra["inference"] = {"mirror_average": True}
    save_ensemble(ensemble, args.out, extra=extra)
    size = (Path(args.out) / MODEL_FILE).stat().st_size
    return {"out": str(args.out), **sources, "bytes": size,
            "parameters": sum(p.numel() for p in ensemble.parameters())}
