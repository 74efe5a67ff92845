"""Move-prediction accuracy: ``xqgpt eval --pgn FILE... [--model DIR] [--context history|fen]``.

Every move of every game is predicted from the position before it, either with the game's
history (``history``) or from the position alone (``fen``). Reported: cross-entropy ``loss``,
``top1``/``top5`` accuracy with the legal-move mask applied, and ``legal_rate``, how often the
unmasked argmax is a legal move; ``illegal_by_piece`` splits the illegal argmaxes by the piece
they would move.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from xiangqi import VOCAB_SIZE, legal_mask
from xiangqi.base import PIECE_NAMES
from xiangqi.encoding import FROM_SQUARE, is_red_piece
from xiangqi.pgn import Game, PgnError, read_pgn_file

from .ensemble import Ensemble, load_any, with_legality
from .features import game_positions
from .network import MoveGPT, inference_options, mirror_averaged
from .policy import default_model_dir
from .tokenizer import ICCS_CHARS as ICCS
from .tokenizer import CharTokenizer, MoveTokenizer

BATCH = 32
ICCS_INDEX = {c: i for i, c in enumerate(ICCS)}


def _game_arrays(game: Game) -> dict[str, np.ndarray]:
    board = game.board()
    codes, sides = game_positions(board, game.moves)
    masks = []
    for m in game.moves:
        masks.append(legal_mask(board))
        board.push(m)
    moves = np.array(MoveTokenizer().encode(game.moves), dtype=np.int64)
    return {"moves": moves, "codes": codes[:-1], "sides": sides[:-1], "masks": np.stack(masks)}


def _sequences(arrays: dict[str, np.ndarray], context: str, n_positions: int, bos: int):
    """(tokens, codes, sides, targets, masks) of the model inputs covering every move of a game."""
    moves, n = arrays["moves"], len(arrays["moves"])
    if context == "fen":
        for t in range(n):
            yield (np.array([bos]), arrays["codes"][t:t + 1], arrays["sides"][t:t + 1], moves[t:t + 1],
                   arrays["masks"][t:t + 1])
        return
    for s in range(0, n, n_positions):
        e = min(s + n_positions, n)
        first = bos if s == 0 else moves[s - 1]
        tokens = np.concatenate([[first], moves[s:e - 1]])
        yield tokens, arrays["codes"][s:e], arrays["sides"][s:e], moves[s:e], arrays["masks"][s:e]


def _piece_names(codes: np.ndarray, red: np.ndarray) -> list[str]:
    """The piece each board code [n] names for the side to move (red [n]), or "no own piece"."""
    own = (codes > 0) & (is_red_piece(codes) == red)
    return [PIECE_NAMES[(c - 1) % 7 + 1] if o else "no own piece" for c, o in zip(codes, own, strict=True)]


class _Tally:
    def __init__(self) -> None:
        self.moves = self.top1 = self.top5 = self.legal = 0
        self.loss = 0.0
        self.illegal = Counter()

    def add(self, logits: torch.Tensor, targets: np.ndarray, masks: np.ndarray, codes: np.ndarray,
            sides: np.ndarray) -> None:
        """logits [n, vocab], board codes [n, 90] and sides [n] (1 = Red to move) of n moves."""
        t = torch.from_numpy(targets)
        self.loss += float(torch.nn.functional.cross_entropy(logits, t, reduction="sum"))
        moves_logits = logits[:, :VOCAB_SIZE]
        raw = moves_logits.argmax(-1).numpy()
        is_legal = masks[np.arange(len(raw)), raw]
        self.legal += int(is_legal.sum())
        bad = np.flatnonzero(~is_legal)
        self.illegal.update(_piece_names(codes[bad, FROM_SQUARE[raw[bad]]], sides[bad] == 1))
        masked = moves_logits.masked_fill(~torch.from_numpy(masks), float("-inf"))
        top = masked.topk(min(5, VOCAB_SIZE), dim=-1).indices
        self.top1 += int((top[:, 0] == t).sum())
        self.top5 += int((top == t[:, None]).any(-1).sum())
        self.moves += len(targets)

    def result(self, games: int) -> dict:
        n = max(self.moves, 1)
        return {"games": games, "moves": self.moves, "loss": self.loss / n, "top1": self.top1 / n,
                "top5": self.top5 / n, "legal_rate": self.legal / n,
                "illegal_by_piece": {k: v / n for k, v in self.illegal.most_common()}}


@torch.no_grad()
def evaluate_games(model: MoveGPT | Ensemble, games: list[Game], context: str = "history", device="cpu",
                   progress: bool = False, mirror_average: bool = False) -> dict:
    """Predict every move of ``games``; returns games, moves, loss, top1, top5, legal_rate.

    With ``mirror_average`` each prediction averages the log-probabilities of the position and of
    its left-right mirror image (see :func:`model.network.mirror_averaged`)."""
    if context not in ("history", "fen"):
        raise ValueError(f"unknown context {context!r} (expected 'history' or 'fen')")
    was_training = model.training
    model.eval()
    if model.config.tokenizer == "char":
        result = _evaluate_char(model, games, device, progress)
    else:
        result = _evaluate_move(model, games, context, device, progress, mirror_average)
    model.train(was_training)
    result["context"] = context
    return result


def _evaluate_move(model: MoveGPT, games: list[Game], context: str, device, progress: bool,
                   mirror_average: bool) -> dict:
    tally = _Tally()
    P = model.config.n_positions
    pending: list[tuple] = []

    def flush() -> None:
        T = max(len(p[0]) for p in pending)
        B = len(pending)
        tokens = torch.full((B, T), MoveTokenizer.pad, dtype=torch.long)
        boards = torch.zeros((B, T, 90), dtype=torch.uint8)
        sides = torch.zeros((B, T), dtype=torch.long)
        for i, (tk, cd, sd, _, _) in enumerate(pending):
            tokens[i, :len(tk)] = torch.from_numpy(tk)
            boards[i, :len(tk)] = torch.from_numpy(cd)
            sides[i, :len(tk)] = torch.from_numpy(sd)
        tokens, boards, sides = tokens.to(device), boards.to(device), sides.to(device)
        if mirror_average:
            logits = mirror_averaged(model, tokens, boards, sides)
        else:
            logits = model(tokens, boards, sides)[0]
        logits = with_legality(model, logits.float(), boards, sides).cpu()
        for i, (tk, cd, sd, tg, mk) in enumerate(pending):
            tally.add(logits[i, :len(tk)], tg, mk, cd, sd)
        pending.clear()

    batch = BATCH if context == "history" else 512
    for game in tqdm(games, desc="evaluating", disable=not progress, unit="game"):
        for seq in _sequences(_game_arrays(game), context, P, MoveTokenizer.bos):
            pending.append(seq)
            if len(pending) >= batch:
                flush()
    if pending:
        flush()
    return tally.result(len(games))


def _evaluate_char(model: MoveGPT, games: list[Game], device, progress: bool) -> dict:
    """Character models: legal-mask greedy decoding of the four characters of each move (top-1),
    and whether the unconstrained greedy spelling is a legal move (legal rate)."""
    tok = CharTokenizer()
    P = model.config.n_positions
    window = P // 4 - 1
    top1 = legal = total = 0
    for game in tqdm(games, desc="evaluating", disable=not progress, unit="game"):
        board = game.board()
        chars = tok.encode(game.moves)
        for t, move in enumerate(game.moves):
            s = max(0, t - window)
            prefix = [tok.bos] + chars[4 * s:4 * t]
            legal_texts = [m.uci() for m in board.legal_moves]
            guess, free = "", ""
            for _ in range(4):
                x = torch.tensor([prefix + [ICCS_INDEX[c] for c in guess]], device=device)
                logits = model(x)[0][0, -1, : len(ICCS)].float().cpu()
                allowed = {text[len(guess)] for text in legal_texts if text.startswith(guess)}
                order = logits.argsort(descending=True).tolist()
                guess += next(ICCS[i] for i in order if ICCS[i] in allowed)
                free += ICCS[order[0]]
            top1 += guess == move.uci()
            legal += free == guess and len(free) == 4 and free in legal_texts
            total += 1
            board.push(move)
    n = max(total, 1)
    return {"games": len(games), "moves": total, "loss": None, "top1": top1 / n, "top5": None,
            "legal_rate": legal / n, "illegal_by_piece": None}


def load_games(paths: list[str]) -> tuple[list[Game], int]:
    """The games of PGN files that have moves, and the number of games rejected (unreadable or empty)."""
    games, rejected = [], 0
    for path in paths:
        for g in read_pgn_file(path):
            if isinstance(g, PgnError) or not g.moves:
                rejected += 1
            else:
                games.append(g)
    return games, rejected


def evaluate_files(pgn: list[str], model_dir: str | Path | None = None, context: str = "history",
                   max_games: int | None = None, mirror_average: bool = True, legality_net: bool = True,
                   progress: bool = False) -> dict:
    """``xqgpt eval``: :func:`evaluate_games` of a model directory (default: the shipped model) on
    the games of PGN files. ``mirror_average`` and ``legality_net`` allow what the model directory
    holds or asks for (``False`` leaves it out); the result also says whether the mirror images
    were averaged and how many games were rejected."""
    games, rejected = load_games(pgn)
    if max_games:
        games = games[:max_games]
    if not games:
        raise ValueError("no readable games in " + ", ".join(pgn))
    directory = model_dir or default_model_dir()
    model = load_any(directory)
    if not legality_net and isinstance(model, Ensemble):
        model = model.without_legality()
    mirror = bool(inference_options(directory).get("mirror_average", False)) and mirror_average
    result = evaluate_games(model, games, context=context, progress=progress, mirror_average=mirror)
    return {**result, "mirror_average": mirror, "rejected_games": rejected}
