"""Engine labels for the positions of a dataset split: ``xqgpt data label``.

A UCI engine (Fairy-Stockfish, Pikafish, ...) searches positions of one split of a dataset built
by ``xqgpt data build`` and its score and best move are stored beside the dataset, in
``DATA/SPLIT/labels/``: ``meta.json`` and chunks ``chunk_NNNNN.npz`` of :data:`CHUNK` positions.

The positions are visited in one seeded random order of the whole split, so the labels of any
prefix (``--limit K``, or a run stopped half-way) are an even sample of it. Each chunk is written
atomically (a temporary file renamed into place); a run continues where an earlier one stopped
and a later run with a larger ``--limit`` extends the labels. Every search starts from a cleared
hash table (``ucinewgame``), so the labels of a depth or node limit do not depend on which chunk
an engine searched before: a continued run gives the same labels as an uninterrupted one.

A chunk holds, per position: ``index`` (row in the split), ``boards`` (90 board codes), ``red``
(Red to move), ``result`` (the game's result for Red: 1, 0, -1, or 2 unknown), ``score`` and
``mate`` (the engine's score for the side to move: centipawns, or moves to mate when ``mate``)
and ``bestmove`` (vocabulary index, -1 when none). The boards travel with the labels, so they stay
usable if the dataset is rebuilt; :func:`load_labels` checks that it was not.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm import tqdm

from xiangqi import Board
from xiangqi.encoding import codes_fen, red_to_move
from xiangqi.engine import Cp, EngineSpec, Limit, UciClient
from xiangqi.vocab import move_index

from .dataset import load_split

CHUNK = 256   # positions per chunk file
META = "meta.json"
FIELDS = ("index", "boards", "red", "result", "score", "mate", "bestmove")


def labels_dir(data_dir: str | Path, split: str) -> Path:
    """``DATA/SPLIT/labels``."""
    return Path(data_dir) / split / "labels"


def _fingerprint(moves: np.ndarray) -> str:
    """A hash of a split's moves: changes when the dataset is rebuilt differently."""
    return hashlib.sha1(np.ascontiguousarray(moves).tobytes()).hexdigest()[:16]


def _chunk_path(folder: Path, c: int) -> Path:
    return folder / f"chunk_{c:05d}.npz"


def _read_chunk(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as z:
            return {k: z[k] for k in FIELDS}
    except (OSError, ValueError, KeyError):
        return None


def _label_positions(client: UciClient, boards: np.ndarray, red: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(boards)
    score, mate, best = np.zeros(n, np.int32), np.zeros(n, bool), np.full(n, -1, np.int16)
    for i in range(n):
        client.new_game()  # a cleared hash: the label depends on the position alone
        value, move = client.analyse(Board(codes_fen(boards[i], bool(red[i]))))
        if isinstance(value, Cp):
            score[i] = value.cp
        else:
            score[i], mate[i] = value.moves, True
        if move is not None:
            best[i] = move_index(move)
    return score, mate, best


def _write_meta(path: Path, meta: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, path)


def _write_chunk(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def label(data_dir: str, engine: str, *, split: str = "train", depth: int | None = None,
          nodes: int | None = None, limit: int | None = None, workers: int = 2, seed: int = 0,
          chunk: int = CHUNK, progress: bool = True) -> dict:
    """Label positions of a split with an engine (see the module docstring); returns a summary.

    ``engine`` is an :class:`~xiangqi.engine.EngineSpec` text; ``depth`` or ``nodes`` replace its
    search limit (one of them, or a limit in the spec, is required). ``limit`` caps the number of
    positions (the first ``limit`` of the seeded order); ``workers`` engine processes run at once;
    ``chunk`` positions go to a file.
    """
    spec = EngineSpec.parse(engine)
    if depth is not None or nodes is not None:
        spec.limit = Limit(depth=depth, nodes=nodes)
    if spec.limit is None:
        raise ValueError("give the engine a search limit: --depth N, --nodes N, or depth=N in the spec")
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if limit is not None and limit < 0:
        raise ValueError(f"--limit must be at least 0, not {limit}")
    data = load_split(data_dir, split)
    moves = np.asarray(data["moves"])
    n = len(moves)
    total = n if limit is None else max(0, min(limit, n))
    folder = labels_dir(data_dir, split)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"split": split, "positions": n, "fingerprint": _fingerprint(moves), "seed": seed,
            "chunk": chunk, "engine": " ".join(spec.command), "options": spec.options,
            "go": spec.limit.go_command()}
    meta_path = folder / META
    if any(not p.name.endswith(".tmp.npz") for p in folder.glob("chunk_*.npz")):
        # labels to extend: only with the settings they were made with
        old = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        keys = ("positions", "fingerprint", "seed", "chunk", "engine", "options", "go")
        changed = [k for k in keys if old.get(k) != meta[k]]
        if changed:
            raise ValueError(f"{folder} holds labels made with other settings ({', '.join(changed)}: "
                             f"{', '.join(repr(old.get(k)) for k in changed)}); remove it to start over")
    else:  # no label yet (a first run, or one whose engine failed): these settings
        _write_meta(meta_path, meta)

    order = np.random.default_rng(seed).permutation(n)
    game_of = np.searchsorted(np.asarray(data["offsets"]), np.arange(n), side="right") - 1
    results = np.asarray(data["results"])
    todo, done = [], 0
    for c in range(-(-total // chunk)):
        rows = order[c * chunk:min((c + 1) * chunk, total)]
        old_chunk = _read_chunk(_chunk_path(folder, c)) if _chunk_path(folder, c).is_file() else None
        if old_chunk is not None and len(old_chunk["index"]) >= len(rows):
            done += len(rows)
        else:
            todo.append((c, np.sort(rows)))

    clients: queue.Queue[UciClient] = queue.Queue()
    started: list[UciClient] = []

    def work(c: int, rows: np.ndarray) -> int:
        client = clients.get()
        try:
            boards = np.asarray(data["boards"][rows])
            red = red_to_move(boards, moves[rows])
            score, mate, best = _label_positions(client, boards, red)
        finally:
            clients.put(client)
        _write_chunk(_chunk_path(folder, c), {
            "index": rows.astype(np.int64), "boards": boards, "red": red,
            "result": results[game_of[rows]].astype(np.int8), "score": score, "mate": mate, "bestmove": best})
        return len(rows)

    bar = tqdm(total=total, initial=done, desc=f"label {split}", unit="pos", disable=not progress)
    new, interrupted = 0, False
    try:
        for _ in range(min(workers, len(todo))):
            client = UciClient(spec)
            started.append(client)
            client.start()
            clients.put(client)
        with ThreadPoolExecutor(max(1, len(started))) as pool:
            futures = [pool.submit(work, c, rows) for c, rows in todo]
            try:
                for future in as_completed(futures):
                    count = future.result()
                    new += count
                    bar.update(count)
            except KeyboardInterrupt:  # Ctrl-C: the chunks being searched finish, the rest wait
                interrupted = True
            finally:
                for future in futures:
                    future.cancel()
    finally:
        for client in started:
            client.close()
        bar.close()
    labelled = sum(len(ch["index"]) for ch in _chunks(folder))
    return {"split": split, "labels": str(folder), "positions": n, "labelled": labelled, "new": new,
            "interrupted": interrupted, "engine": meta["engine"], "go": meta["go"]}


def _chunks(folder: Path) -> list[dict[str, np.ndarray]]:
    out = []
    for path in sorted(folder.glob("chunk_*.npz")):
        if not path.name.endswith(".tmp.npz") and (chunk := _read_chunk(path)) is not None:
            out.append(chunk)
    return out


def load_labels(data_dir: str | Path, split: str, check: bool = True) -> dict[str, np.ndarray]:
    """Every label of a split (see the module docstring), in the seeded order's chunks; with
    ``check``, raises ``ValueError`` if the dataset was rebuilt since (the boards of the labels
    no longer match it)."""
    folder = labels_dir(data_dir, split)
    if not (folder / META).is_file():
        raise FileNotFoundError(f"no labels in {folder} (run `xqgpt data label {data_dir} --split {split}`)")
    if check:
        meta = json.loads((folder / META).read_text())
        if _fingerprint(np.asarray(load_split(str(data_dir), split)["moves"])) != meta["fingerprint"]:
            raise ValueError(f"the dataset {data_dir} was rebuilt after {folder} was labelled")
    chunks = _chunks(folder)
    if not chunks:
        return {k: np.zeros((0, 90) if k == "boards" else 0) for k in FIELDS}
    return {k: np.concatenate([ch[k] for ch in chunks]) for k in FIELDS}
