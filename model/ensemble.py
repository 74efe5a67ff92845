"""Several trained move models answering as one, optionally with a learned legality net.

An :class:`Ensemble` averages the log-probabilities of its :class:`~model.network.MoveGPT`
members; when it has a :class:`~model.legality.LegalityNet`, :func:`with_legality` adds that
net's log-probability that each move is legal, once per position (after mirror averaging). It has
the forward signature of ``MoveGPT`` (the KV cache is a list with one cache per member), so
:class:`~model.policy.Policy` and ``xqgpt eval`` use either.

``xqgpt combine --member DIR --member DIR [--legality DIR] --out DIR`` writes one model directory:
``config.json`` and a single ``model.safetensors``, whose member weights are stored as int8 with a
scale per row (:func:`quantize`) to keep the shipped file small.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers.pytorch_utils import Conv1D

from xiangqi import VOCAB_SIZE

from .legality import LegalityConfig, LegalityNet, load_legality
from .network import (
    CONFIG_FILE,
    MODEL_FILE,
    ModelConfig,
    ModelLoadError,
    MoveGPT,
    load_model,
    read_config,
    write_config,
)

SCALE_SUFFIX = ".int8_scale"


class Ensemble(nn.Module):
    """Move models whose log-probabilities are averaged, and optionally a legality net (whose
    log P(legal), times ``legality_weight``, :func:`with_legality` adds once per position)."""

    def __init__(self, members: list[MoveGPT], legality: LegalityNet | None = None,
                 legality_weight: float = 1.0) -> None:
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
        self.legality_weight = legality_weight
        self.config = first  # what callers read: tokenizer and n_positions

    def forward(self, tokens: torch.Tensor, boards: torch.Tensor, sides: torch.Tensor, cache=None,
                position_ids=None, use_cache: bool = False, attention_mask: torch.Tensor | None = None):
        caches = cache if cache is not None else [None] * len(self.members)
        scores, new_caches = 0.0, []
        for member, member_cache in zip(self.members, caches, strict=True):
            logits, kv = member(tokens, boards, sides, cache=member_cache, position_ids=position_ids,
                                use_cache=use_cache, attention_mask=attention_mask)
            scores = scores + logits.float().log_softmax(-1)
            new_caches.append(kv)
        return scores / len(self.members), (new_caches if use_cache else None)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu") -> Ensemble:
        """Load an ensemble directory (see :func:`load_ensemble`); raises :class:`ModelLoadError`."""
        return load_ensemble(path, device)

    def save_pretrained(self, path: str | Path, extra: dict | None = None) -> None:
        """Write an ensemble directory (see :func:`save_ensemble`)."""
        save_ensemble(self, path, extra)

    def without_legality(self) -> Ensemble:
        """The same members without the legality net (to measure what the net adds)."""
        return Ensemble(list(self.members)).eval()


def with_legality(model: MoveGPT | Ensemble, scores: torch.Tensor, boards: torch.Tensor,
                  sides: torch.Tensor) -> torch.Tensor:
    """Scores [..., vocab] of positions (boards [..., 90], sides [...]) plus, for an ensemble with a
    legality net, ``legality_weight`` x log P(legal) of every move; unchanged for other models.
    Added after any mirror averaging: legality belongs to the position, not to a view of it."""
    if not isinstance(model, Ensemble) or model.legality is None:
        return scores
    legal = model.legality_weight * nn.functional.logsigmoid(model.legality(boards, sides)).to(scores.dtype)
    return torch.cat([scores[..., :VOCAB_SIZE] + legal, scores[..., VOCAB_SIZE:]], -1)


def quantize(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A 2-D tensor -> int8 values and an fp32 scale per row (symmetric, round to nearest)."""
    scale = tensor.abs().amax(-1, keepdim=True).clamp_min(1e-12) / 127
    return (tensor / scale).round().clamp(-127, 127).to(torch.int8), scale.float()


class Int8Linear(nn.Module):
    """``x @ W.T + b`` with ``W`` held as int8 [out, in] and a scale per output row.

    The product runs in bf16 with ``torch._weight_int8pack_mm``: playing a move feeds one or two
    rows through the network, which is bound by reading the weights, and int8 reads a quarter of
    the bytes of fp32. Loaded ensembles use it in place of GPT-2's ``Conv1D`` layers and LM head.
    """

    def __init__(self, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        # Fresh copies: tensors read from a safetensors file may sit at unaligned offsets.
        self.register_buffer("weight", weight.to(torch.int8).clone(memory_format=torch.contiguous_format))
        self.register_buffer("scale", scale.reshape(-1).to(torch.bfloat16).clone())
        self.register_buffer("bias", None if bias is None else bias.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.size(-1)).bfloat16().contiguous()
        y = torch._weight_int8pack_mm(rows, self.weight, self.scale).float()
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], -1)


def _conv1d_weights(member: MoveGPT) -> set[str]:
    """State-dict keys of the GPT-2 ``Conv1D`` weights ([in, out], stored transposed as [out, in])."""
    return {f"{name}.weight" for name, m in member.named_modules() if isinstance(m, Conv1D)}


def save_ensemble(ensemble: Ensemble, directory: str | Path, extra: dict | None = None) -> None:
    """Write the ensemble as one model directory: the members' 2-D weights as int8 with a scale per
    output row (:func:`quantize`; ``Conv1D`` weights transposed to [out, in]), their other tensors
    as fp16, the legality net in fp32."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {}
    for i, member in enumerate(ensemble.members):
        if any(isinstance(m, Int8Linear) for m in member.modules()):
            raise ValueError("a loaded (int8) ensemble cannot be saved again: combine the original members")
        transposed = _conv1d_weights(member)
        for k, v in member.state_dict().items():
            if k == "gpt.lm_head.weight":  # tied to the token embedding
                continue
            name = f"members.{i}.{k}"
            v = v.detach().cpu().float()
            if v.dim() == 2:
                state[name], state[name + SCALE_SUFFIX] = quantize(v.t() if k in transposed else v)
            else:
                state[name] = v.half()
    if ensemble.legality is not None:
        for k, v in ensemble.legality.state_dict().items():
            state[f"legality.{k}"] = v.detach().cpu().float()
    save_file({k: v.contiguous() for k, v in state.items()}, str(d / MODEL_FILE))
    config = {"ensemble": {"members": [asdict(m.config) for m in ensemble.members],
                           "legality": asdict(ensemble.legality.config) if ensemble.legality else None,
                           "legality_weight": ensemble.legality_weight},
              **(extra or {})}
    write_config(d, config)


def _load_member(config: ModelConfig, state: dict[str, torch.Tensor], prefix: str) -> MoveGPT:
    """One member for inference: ``Conv1D`` layers and the LM head become :class:`Int8Linear`
    straight from the stored int8 weights, everything else is dequantized to fp32."""
    member = MoveGPT(config)
    int8 = _conv1d_weights(member)
    wanted = {k for k in member.state_dict() if k != "gpt.lm_head.weight"}
    missing = {k for k in wanted if prefix + k not in state}
    if missing:
        raise ValueError(f"missing weights {sorted(missing)[:3]}")
    fp32 = {}
    for k in wanted - int8:
        v, scale = state[prefix + k], state.get(prefix + k + SCALE_SUFFIX)
        fp32[k] = v.float() * scale if scale is not None else v.float()
    member.load_state_dict(fp32, strict=False)
    for key in int8:
        parent, child = key.removesuffix(".weight").rsplit(".", 1)
        bias = state[prefix + key.removesuffix("weight") + "bias"]
        setattr(member.get_submodule(parent), child,
                Int8Linear(state[prefix + key], state[prefix + key + SCALE_SUFFIX], bias))
    wte = prefix + "gpt.transformer.wte.weight"
    member.gpt.lm_head = Int8Linear(state[wte], state[wte + SCALE_SUFFIX], None)
    return member


def load_ensemble(directory: str | Path, device: str = "cpu") -> Ensemble:
    """Load a directory written by :func:`save_ensemble` for inference (members with
    :class:`Int8Linear` layers); raises :class:`ModelLoadError`."""
    d = Path(directory)
    saved = read_config(d, "ensemble")
    try:
        spec = saved["ensemble"]
        state = load_file(str(d / MODEL_FILE))
        members = [_load_member(ModelConfig(**config), state, f"members.{i}.")
                   for i, config in enumerate(spec["members"])]
        legality = None
        if spec.get("legality"):
            legality = LegalityNet(LegalityConfig(**spec["legality"]))
            legality.load_state_dict({k.removeprefix("legality."): v.float() for k, v in state.items()
                                      if k.startswith("legality.")})
        ensemble = Ensemble(members, legality, spec.get("legality_weight", 1.0))
    except Exception as e:  # corrupt JSON, bad safetensors header, missing or misshapen weights ...
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


def combine(members: list[str], out: str | Path, legality: str | None = None, legality_weight: float = 1.0,
            mirror_average: bool = False) -> dict:
    """``xqgpt combine``: member model directories (and a legality-net directory) -> one ensemble
    model directory ``out``, marked to average mirror images when it plays if ``mirror_average``;
    returns a summary (sources, file size, parameters)."""
    models = [load_model(m) for m in members]
    ensemble = Ensemble(models, load_legality(legality) if legality else None, legality_weight)
    sources = {"members": list(members), "legality": legality, "legality_weight": legality_weight}
    extra = {"sources": sources}
    if mirror_average:
        extra["inference"] = {"mirror_average": True}
    save_ensemble(ensemble, out, extra=extra)
    size = (Path(out) / MODEL_FILE).stat().st_size
    return {"out": str(out), **sources, "bytes": size,
            "parameters": sum(p.numel() for p in ensemble.parameters())}
