"""The network: ``transformers.GPT2LMHeadModel`` fed with move tokens plus the board state.

Each input position adds three embeddings: the previous move's token (``BOS`` at the start of
a sequence), the current board as a sum of learned (square, piece) embeddings, and the side to
move; optionally a fourth, the output of a :class:`LineEncoder` that looks along the board's
ranks and files. The model then predicts the next move token. GPT-2's own position embedding
and its weight-tied LM head are used unchanged.

A model directory holds ``config.json`` and ``model.safetensors``, the Hugging Face layout:
``MoveGPT.save_pretrained(path)`` writes one, ``MoveGPT.from_pretrained(path)`` reads it back
(nothing is ever downloaded). The config records the sha256 of the weights file
(:func:`write_config`), and loading checks it (:func:`read_config`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel

from xiangqi import VOCAB_SIZE
from xiangqi.encoding import MIRROR_SQUARES
from xiangqi.vocab import MIRROR_PERMUTATION

from .tokenizer import get_tokenizer

# Token permutation of the left-right mirror (special tokens map to themselves).
MIRROR_TOKENS = torch.cat([torch.from_numpy(MIRROR_PERMUTATION), torch.arange(VOCAB_SIZE, VOCAB_SIZE + 2)])
BOARD_CODES = 15  # 0 empty, 1..7 Red general..soldier, 8..14 Black
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CHECKSUM_KEY = "sha256"  # config.json: {"sha256": {"model.safetensors": HEX}}


class ModelLoadError(ValueError):
    """A model directory that is missing, incomplete or corrupt."""


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network."""

    tokenizer: str = "move"
    board: bool = True
    n_layer: int = 6
    n_embd: int = 256
    n_head: int = 8
    n_positions: int = 128
    dropout: float = 0.0
    line_channels: int = 0  # channels of the LineEncoder; 0 = none

    def gpt2_config(self) -> GPT2Config:
        tok = get_tokenizer(self.tokenizer)
        return GPT2Config(vocab_size=tok.vocab_size, n_positions=self.n_positions, n_embd=self.n_embd,
                          n_layer=self.n_layer, n_head=self.n_head, resid_pdrop=self.dropout,
                          embd_pdrop=self.dropout, attn_pdrop=self.dropout,
                          bos_token_id=tok.bos, eos_token_id=tok.bos, pad_token_id=tok.pad)


class LineEncoder(nn.Module):
    """Board features that see along whole ranks and files.

    Two layers of convolutions whose kernels span a full rank (17 wide) and a full file (19 tall)
    from any square, so whether the path between two squares is clear, and how many pieces stand
    between them (chariot moves, cannon screens, the flying general), is one layer away; a linear
    map of all squares' features then gives an embedding. Its output layer starts at zero, so
    adding the encoder to a trained model leaves the model's predictions unchanged at first.
    """

    def __init__(self, channels: int, n_embd: int) -> None:
        super().__init__()
        self.rank1 = nn.Conv2d(BOARD_CODES, channels, (1, 17), padding=(0, 8))
        self.file1 = nn.Conv2d(BOARD_CODES, channels, (19, 1), padding=(9, 0), bias=False)
        self.rank2 = nn.Conv2d(channels, channels, (1, 17), padding=(0, 8))
        self.file2 = nn.Conv2d(channels, channels, (19, 1), padding=(9, 0), bias=False)
        self.out = nn.Linear(90 * channels, n_embd)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, one_hot: torch.Tensor) -> torch.Tensor:
        """one_hot [..., 90, BOARD_CODES] -> [..., n_embd]."""
        lead = one_hot.shape[:-2]
        x = one_hot.reshape(-1, 10, 9, BOARD_CODES).permute(0, 3, 1, 2)  # square = rank * 9 + file
        h = torch.relu(self.rank1(x) + self.file1(x))
        h = torch.relu(self.rank2(h) + self.file2(h)) + h
        return self.out(h.flatten(1)).reshape(*lead, -1)


class MoveGPT(nn.Module):
    """GPT-2 over move tokens with an optional board-state input."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.gpt = GPT2LMHeadModel(config.gpt2_config())
        if config.board:
            # A linear map of the one-hot board: one learned vector per (square, piece) summed.
            self.board_embedding = nn.Linear(90 * BOARD_CODES, config.n_embd, bias=False)
            self.side_embedding = nn.Embedding(2, config.n_embd)
            nn.init.normal_(self.board_embedding.weight, std=0.02 / 3)
            nn.init.normal_(self.side_embedding.weight, std=0.02)
        if config.board and config.line_channels:
            self.line_encoder = LineEncoder(config.line_channels, config.n_embd)

    def add_line_encoder(self, channels: int) -> None:
        """Give a model without one a :class:`LineEncoder` (for fine-tuning a trained model: the
        predictions stay the same until training changes the encoder's zero output layer)."""
        if not self.config.board or self.config.line_channels:
            raise ValueError("only a model with a board input and no line encoder can get one")
        self.config.line_channels = channels
        device = self.gpt.transformer.wte.weight.device
        self.line_encoder = LineEncoder(channels, self.config.n_embd).to(device)

    def embed(self, tokens: torch.Tensor, boards: torch.Tensor | None = None,
              sides: torch.Tensor | None = None) -> torch.Tensor:
        """Input embeddings for tokens [B, T], boards [B, T, 90] (uint8 codes), sides [B, T] (1 = Red)."""
        x = self.gpt.transformer.wte(tokens)
        if self.config.board:
            one_hot = nn.functional.one_hot(boards.long(), BOARD_CODES).to(x.dtype)
            x = x + self.board_embedding(one_hot.flatten(-2)) + self.side_embedding(sides.long())
            if self.config.line_channels:
                x = x + self.line_encoder(one_hot)
        return x

    def forward(self, tokens: torch.Tensor, boards: torch.Tensor | None = None,
                sides: torch.Tensor | None = None, cache=None, position_ids=None,
                use_cache: bool = False, attention_mask: torch.Tensor | None = None):
        out = self.gpt(inputs_embeds=self.embed(tokens, boards, sides), cache=cache,
                       position_ids=position_ids, use_cache=use_cache, attention_mask=attention_mask)
        return out.logits, out.cache

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu") -> MoveGPT:
        """Load a model directory (see :func:`load_model`); raises :class:`ModelLoadError`."""
        return load_model(path, device)

    def save_pretrained(self, path: str | Path, extra: dict | None = None,
                        dtype: torch.dtype | None = None) -> None:
        """Write a model directory (see :func:`save_model`)."""
        save_model(self, path, extra, dtype)

    def configure_optimizers(self, weight_decay: float, learning_rate: float,
                             device_type: str) -> torch.optim.AdamW:
        """AdamW with weight decay on the weight matrices only (not on embeddings, biases and
        layer norms); the fused kernel on CUDA."""
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            is_matrix = param.dim() >= 2 and not any(k in name for k in ("embedding", "wte", "wpe"))
            (decay if is_matrix else no_decay).append(param)
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=(0.9, 0.95), fused=device_type == "cuda")


def with_mirror_images(tokens: torch.Tensor, boards: torch.Tensor,
                       sides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs of B sequences -> 2B rows: the sequences, then their left-right mirror images."""
    tokens_mirrored = MIRROR_TOKENS.to(tokens.device)[tokens]
    boards_mirrored = boards[..., torch.from_numpy(MIRROR_SQUARES).to(boards.device)]
    return (torch.cat([tokens, tokens_mirrored]), torch.cat([boards, boards_mirrored]),
            torch.cat([sides, sides]))


def average_mirror_images(logits: torch.Tensor) -> torch.Tensor:
    """Logits of the 2B rows of :func:`with_mirror_images` -> log-probabilities [B, ..., vocab]
    averaged over each sequence and its mirror image (test-time augmentation: the game is
    symmetric, the model only nearly so)."""
    plain, mirrored = logits.float().log_softmax(-1).chunk(2)
    return (plain + mirrored[..., MIRROR_TOKENS.to(logits.device)]) / 2


def mirror_averaged(model: MoveGPT, tokens: torch.Tensor, boards: torch.Tensor,
                    sides: torch.Tensor) -> torch.Tensor:
    """Log-probabilities [B, T, vocab] averaged over the sequences and their mirror images,
    both in one forward pass."""
    return average_mirror_images(model(*with_mirror_images(tokens, boards, sides))[0])


def save_model(model: MoveGPT, directory: str | Path, extra: dict | None = None,
               dtype: torch.dtype | None = None) -> None:
    """Write ``config.json`` and ``model.safetensors`` to a directory, the weights in ``dtype``
    when given (e.g. fp16 to halve the file; :func:`load_model` reads them back into fp32)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", dtype or v.dtype).contiguous() for k, v in model.state_dict().items()
             if k != "gpt.lm_head.weight"}  # tied to the token embedding
    save_file(state, str(d / MODEL_FILE))
    write_config(d, {"model": asdict(model.config), **(extra or {})})


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_config(directory: str | Path, config: dict) -> None:
    """Write a directory's ``config.json``, recording the sha256 of its ``model.safetensors``
    (written first) under ``"sha256"``."""
    d = Path(directory)
    config = {**config, CHECKSUM_KEY: {MODEL_FILE: file_sha256(d / MODEL_FILE)}}
    (d / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def read_config(directory: str | Path, kind: str = "model") -> dict:
    """A ``kind`` directory's ``config.json``, once ``model.safetensors`` is checked against the
    sha256 recorded there (directories written before checksums were recorded have none and are
    not checked); raises :class:`ModelLoadError`."""
    d = Path(directory)
    if not (d / CONFIG_FILE).is_file() or not (d / MODEL_FILE).is_file():
        article = "an" if kind[0] in "aeiou" else "a"
        raise ModelLoadError(f"{d} is not {article} {kind} directory (needs {CONFIG_FILE} and {MODEL_FILE})")
    try:
        config = json.loads((d / CONFIG_FILE).read_text())
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot load {kind} from {d}: bad {CONFIG_FILE}: {e}") from e
    expected = config.get(CHECKSUM_KEY, {}).get(MODEL_FILE) if isinstance(config, dict) else None
    if expected is not None:
        actual = file_sha256(d / MODEL_FILE)
        if actual != expected:
            raise ModelLoadError(f"cannot load {kind} from {d}: {MODEL_FILE} does not match the sha256 in "
                                 f"{CONFIG_FILE} (expected {expected}, found {actual}): the file is damaged "
                                 f"or was replaced; restore it or save the {kind} again")
    return config


def inference_options(directory: str | Path) -> dict:
    """The ``inference`` section of a model directory's config (e.g. ``mirror_average``)."""
    return json.loads((Path(directory) / CONFIG_FILE).read_text()).get("inference", {})


def load_model(directory: str | Path, device: str = "cpu") -> MoveGPT:
    """Load a model directory written by :func:`save_model`; raises :class:`ModelLoadError`."""
    d = Path(directory)
    spec = read_config(d)
    try:
        if "ensemble" in spec:
            raise ModelLoadError(f"{d} holds an ensemble, not a single model")
        config = ModelConfig(**spec["model"])
        model = MoveGPT(config)
        state = load_file(str(d / MODEL_FILE))
        missing, unexpected = model.load_state_dict(state, strict=False)
    except ModelLoadError:
        raise
    except Exception as e:  # corrupt JSON, bad safetensors header, wrong shapes ...
        raise ModelLoadError(f"cannot load model from {d}: {e}") from e
    missing = [k for k in missing if k != "gpt.lm_head.weight"]
    if missing or unexpected:
        raise ModelLoadError(f"model in {d} does not match its config: "
                             f"missing {missing}, unexpected {unexpected}")
    model.gpt.tie_weights()
    return model.to(device).eval()
