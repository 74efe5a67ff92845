"""Dataset builder: arrays, splits, dedup across folders and notations, bad input, CCPD."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from data.dataset import (
    IDENTITY_PLIES,
    LOOSE_PLIES,
    board_codes,
    build,
    check,
    game_key,
    is_dataset,
    load_metadata,
    load_split,
    split_of,
)
from xiangqi import Board, Move, index_move
from xiangqi.pgn import Game, read_pgn_file, write_game

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
COUNT_KEYS = ("files", "files_accepted", "games", "accepted", "rejected", "duplicates", "near_duplicates",
              "fragments", "unique", "plies")


def sample_games() -> list[Game]:
    """The five distinct sample games: three from the start position, two set-up positions."""
    games = read_pgn_file(str(SAMPLES / "wxf15_first3_chinese.pgn"))
    games += read_pgn_file(str(SAMPLES / "setup_fen_chinese.pgn"))
    assert all(isinstance(g, Game) for g in games)
    return games  # type: ignore[return-value]


def games_in(folder: Path, split: str) -> list[list[Move]]:
    arrays = load_split(str(folder), split)
    offsets, moves = arrays["offsets"], arrays["moves"]
    return [[index_move(int(i)) for i in moves[offsets[g]:offsets[g + 1]]] for g in range(len(offsets) - 1)]


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")}


def test_build_samples(tmp_path):
    out = tmp_path / "ds"
    summary = build([str(SAMPLES)], str(out), workers=1, val_percent=20, test_percent=10)
    games = sample_games()
    assert {k: summary[k] for k in COUNT_KEYS} == {
        "files": 4, "files_accepted": 4, "games": 11, "accepted": 11, "rejected": 0,
        "duplicates": 6, "near_duplicates": 0, "fragments": 0, "unique": 5,
        "plies": sum(len(g.moves) for g in games)}
    assert summary["rejected_by_reason"] == {} and summary["rejected_examples"] == []
    assert json.loads((out / "summary.json").read_text()) == summary
    assert is_dataset(str(out))

    by_key = {game_key(g): g for g in games}
    seen = []
    for split in ("train", "val", "test"):
        arrays = load_split(str(out), split)
        assert isinstance(arrays["boards"], np.memmap)
        offsets, boards, results = arrays["offsets"], arrays["boards"], arrays["results"]
        assert arrays["moves"].dtype == np.int16 and boards.dtype == np.uint8 and offsets[0] == 0
        assert boards.shape == (len(arrays["moves"]), 90) and offsets[-1] == len(arrays["moves"])
        assert len(results) == len(offsets) - 1 == summary["splits"][split]["games"]
        for g, moves in enumerate(games_in(out, split)):
            (game,) = [x for x in games if x.moves == moves]
            key = game_key(game)
            assert split_of(key, 20, 10) == split
            seen.append(key)
            board = game.board()
            for ply, move in enumerate(game.moves):
                assert bytes(boards[offsets[g] + ply]) == board_codes(board)
                board.push(move)
            assert results[g] == {"1-0": 1, "0-1": -1, "1/2-1/2": 0, "*": 2}[game.result]
    assert sorted(seen) == sorted(by_key)
    assert [summary["splits"][s]["games"] for s in ("train", "val", "test")] == [1, 3, 1]
    for split in ("val", "test"):
        held_out = [game_key(g) for g in read_pgn_file(str(out / f"{split}.pgn"))]
        assert sorted(held_out) == sorted(k for k in seen if split_of(k, 20, 10) == split)


def test_mirror_only_adds_mirrored_training_games(tmp_path):
    plain = build([str(SAMPLES)], str(tmp_path / "plain"), workers=1)
    mirrored = build([str(SAMPLES)], str(tmp_path / "mirror"), mirror=True, workers=1)
    assert {k: plain[k] for k in COUNT_KEYS} == {k: mirrored[k] for k in COUNT_KEYS}
    train = plain["splits"]["train"]
    assert mirrored["splits"]["train"] == {"games": 2 * train["games"], "plies": 2 * train["plies"]}
    for split in ("val", "test"):
        assert mirrored["splits"][split] == plain["splits"][split]
    originals = games_in(tmp_path / "plain", "train")
    assert games_in(tmp_path / "mirror", "train") == [
        g for moves in originals for g in (moves, [m.mirror() for m in moves])]
    metadata = load_metadata(str(tmp_path / "mirror"), "train")
    assert [m.get("mirrored", False) for m in metadata] == [False, True] * train["games"]
    (first,) = [g for g in sample_games() if g.moves == originals[0]]
    arrays = load_split(str(tmp_path / "mirror"), "train")
    assert bytes(arrays["boards"][arrays["offsets"][1]]) == board_codes(first.board().mirror())


def test_build_is_deterministic(tmp_path):
    build([str(SAMPLES)], str(tmp_path / "a"), workers=2)
    build([str(SAMPLES)], str(tmp_path / "b"), workers=1)
    for name in ("train/moves.npy", "train/boards.npy", "train/offsets.npy", "val.pgn", "test.pgn",
                 "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_rebuild_leaves_open_memory_maps_valid(tmp_path):
    out = tmp_path / "ds"
    build([str(SAMPLES)], str(out), workers=1)
    old = load_split(str(out), "train")
    copy = {k: np.array(v) for k, v in old.items()}
    summary = build([str(SAMPLES / "setup_fen_chinese.pgn")], str(out), workers=1)
    assert summary["unique"] == 2
    for name, array in copy.items():
        assert np.array_equal(old[name], array)
    assert len(load_split(str(out), "train")["offsets"]) != len(copy["offsets"])
    assert not list(out.rglob("*.tmp"))


def test_same_game_in_two_folders_counts_once(tmp_path):
    game = sample_games()[1]
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a" / "game.pgn").write_bytes(write_game(game, "chinese").encode("gbk"))
    (tmp_path / "b" / "deep" / "same.PGN").write_bytes(write_game(game, "wxf").encode("utf-8-sig"))
    (tmp_path / "b" / "trad.pgn").write_bytes(write_game(game, "chinese-traditional").encode("big5"))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as z:
        z.writestr("x/game.pgn", write_game(game, "iccs"))
    summary = check([str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "c.zip")], workers=1)
    assert {k: summary[k] for k in ("files", "accepted", "unique", "duplicates", "plies")} == {
        "files": 4, "accepted": 4, "unique": 1, "duplicates": 3, "plies": len(game.moves)}


def shared_heads(held_out: list[list[Move]], train: list[list[Move]]) -> int:
    """Pairs of a held-out and a training game whose first 30 plies agree (all, if one is shorter)."""
    return sum(t[:n] == r[:n] for t in held_out for r in train for n in [min(IDENTITY_PLIES, len(t), len(r))])


def test_truncated_copies_are_one_game_in_one_split(tmp_path, fixture_games):
    """Copies of the 15 fixture master games cut at ply 20 and 40, or with another 51st move, are
    merged into the full game, which alone is written; a line that two games share is left out;
    no held-out game shares its head with a training game (split by the exact moves, some did)."""
    def record(game: Game, moves: list[Move], result: str = "*") -> Game:
        return Game(headers={"Event": "copy"}, fen=game.fen, moves=moves, result=result)

    games = fixture_games
    copies = [record(g, g.moves[:n]) for g in games for n in (20, 40)]
    for g in games[:2]:
        board = g.board()
        for move in g.moves[:50]:
            board.push(move)
        other = next(m for m in board.legal_moves if m != g.moves[50])
        copies.append(record(g, g.moves[:50] + [other], "1-0"))
    # Games 0 and 2 share their first 8 plies, games 3 and 5 their first 6.
    fragments = [record(games[0], games[0].moves[:8]), record(games[3], games[3].moves[:6])]
    corpus = [*copies, *fragments, *games, games[5]]  # game 5 twice: an exact duplicate
    (tmp_path / "in").mkdir()
    for i, g in enumerate(corpus):
        (tmp_path / "in" / f"{i:03d}.pgn").write_text(write_game(g, "iccs"))

    out = tmp_path / "ds"
    summary = build([str(tmp_path / "in")], str(out), workers=1, val_percent=20, test_percent=20)
    assert {k: summary[k] for k in ("accepted", "duplicates", "near_duplicates", "fragments", "unique")} == {
        "accepted": 50, "duplicates": 1, "near_duplicates": 32, "fragments": 2, "unique": 15}
    assert summary["plies"] == sum(len(g.moves) for g in games)
    assert json.loads((out / "summary.json").read_text())["near_duplicates"] == 32
    written = {split: games_in(out, split) for split in ("train", "val", "test")}
    assert [len(written[s]) for s in ("train", "val", "test")] == [8, 4, 3]
    for g in games:  # the longest copy, in the split of its key
        assert g.moves in written[split_of(game_key(g), 20, 20)]
    assert shared_heads(written["test"] + written["val"], written["train"]) == 0
    assert summary["shared_heads"] == {"val": 0, "test": 0}

    old = {split: [g.moves for g in {game_key(g): g for g in corpus}.values()
                   if split_of(game_key(g), 20, 20) == split] for split in ("train", "val", "test")}
    assert shared_heads(old["test"] + old["val"], old["train"]) > 0


def without_a_piece(game: Game, plies: int) -> str:
    """The start of ``game`` with one piece taken off that its first ``plies`` moves can do without:
    a record of the game whose set-up position was mistyped."""
    rows = game.fen.split()[0].split("/")
    for r, row in enumerate(rows):
        cells = "".join("." * int(c) if c.isdigit() else c for c in row)
        for f, cell in enumerate(cells):
            if cell in ".kK":
                continue
            rows_ = [*rows]
            rows_[r] = re.sub(r"\.+", lambda m: str(len(m.group())), cells[:f] + "." + cells[f + 1:])
            fen = " ".join(["/".join(rows_), *game.fen.split()[1:]])
            board = Board(fen)
            if all(board.is_legal(m) and board.push(m) is None for m in game.moves[:plies]):
                return fen
    raise AssertionError("no such piece")


def test_copy_from_a_mistyped_setup_is_the_same_game(tmp_path, fixture_games):
    """A record from a start with a piece missing is a copy of the game once LOOSE_PLIES moves
    agree (CCPD has 17 such records); two moves that games from different positions share are not."""
    game = fixture_games[0]
    copy = Game(headers={"Event": "mistyped"}, fen=without_a_piece(game, 2 * LOOSE_PLIES),
                moves=game.moves[:2 * LOOSE_PLIES])
    sparse = Board("3k3n1/9/9/9/9/9/9/7C1/9/4K4 w - - 0 1")  # the same first two moves, another game
    assert [m.uci() for m in game.moves[:2]] == ["h2e2", "h9g7"]
    chance = Game(headers={"Event": "chance"}, fen=sparse.fen(), moves=game.moves[:2])
    (tmp_path / "in").mkdir()
    for i, g in enumerate((copy, chance, game)):
        (tmp_path / "in" / f"{i}.pgn").write_text(write_game(g, "iccs"))
    summary = check([str(tmp_path / "in")], workers=1)
    assert (summary["unique"], summary["near_duplicates"]) == (2, 1)
    assert summary["plies"] == len(game.moves) + 2


def test_sources_are_merged_before_the_split(tmp_path, fixture_games):
    """Copies of a game in two sources, exact or cut short, are one game written once: the longest
    copy, with its record's metadata, in the split of its key. The summary counts each source's
    files and games, and the games it adds to the sources before it."""
    games = fixture_games
    def save(folder: Path, name: str, game: Game, moves: list[Move], headers: dict) -> None:
        folder.mkdir(exist_ok=True)
        record = Game(headers={"Event": f"{folder.name} {name}", **headers}, fen=game.fen, moves=moves,
                      result=game.result)
        (folder / f"{name}.pgn").write_text(write_game(record, "chinese"), encoding="utf-8")

    a, b = tmp_path / "a", tmp_path / "b"
    for i in range(10):
        save(a, f"{i:02d}", games[i], games[i].moves, {"Red": f"red {i}"})
    save(a, "12cut", games[12], games[12].moves[:40], {})
    for i in range(5, 15):
        save(b, f"{i:02d}", games[i], games[i].moves, {"RedElo": "2500", "BlackElo": "2431"})
    save(b, "03cut", games[3], games[3].moves[:20], {})
    out = tmp_path / "ds"
    summary = build([str(a), str(b)], str(out), workers=1, val_percent=20, test_percent=20)
    assert (summary["unique"], summary["duplicates"], summary["near_duplicates"]) == (15, 5, 2)
    assert summary["sources"] == [
        {"source": str(a), "files": 11, "files_accepted": 11, "accepted": 11, "rejected": 0,
         "unique": 11, "new": 11},
        {"source": str(b), "files": 11, "files_accepted": 11, "accepted": 11, "rejected": 0,
         "unique": 11, "new": 4}]
    assert summary["shared_heads"] == {"val": 0, "test": 0}
    written = {}
    for split in ("train", "val", "test"):
        metadata = load_metadata(str(out), split)
        assert len(metadata) == summary["splits"][split]["games"]
        for moves, meta in zip(games_in(out, split), metadata, strict=True):
            written[tuple(moves)] = split, meta
    assert len(written) == 15
    for i, game in enumerate(games):
        split, meta = written[tuple(game.moves)]
        assert split == split_of(game_key(game), 20, 20)
        assert meta["source"] == str((a if i < 10 else b) / f"{i:02d}.pgn")
        assert (meta["red"], meta["red_elo"], meta["black_elo"]) == (
            (f"red {i}", None, None) if i < 10 else ("", 2500, 2431))
        assert meta["event"] == f"{Path(meta['source']).parent.name} {i:02d}"


def test_check_writes_nothing(tmp_path):
    before = files_under(tmp_path)
    summary = check([str(SAMPLES)], workers=2)
    assert summary["unique"] == 5 and "splits" not in summary
    assert files_under(tmp_path) == before


# -- bad input --------------------------------------------------------------------------------

def make_bad_sources(root: Path) -> list[str]:
    """A folder of broken files, a zip with path-traversal names and a truncated tar.gz."""
    good = sample_games()
    bad = root / "bad"
    bad.mkdir()
    full = write_game(good[0], "chinese").encode("gb18030")
    (bad / "truncated.pgn").write_bytes(full[: full.rindex("进".encode("gb18030")) + 1])
    (bad / "utf16_no_bom.pgn").write_bytes(write_game(good[1], "chinese").encode("utf-16-le"))
    (bad / "garbage.pgn").write_text('[Event "g"]\n\n1. hello world 2. foo bar\n')
    (bad / "illegal.pgn").write_text("1. h2e2 h9g7 2. h0h9\n")
    (bad / "empty.pgn").write_bytes(b"")
    (bad / "ok.pgn").write_text(write_game(good[2], "wxf"))
    (bad / "notes.txt").write_text("not a pgn, not read")
    rng = np.random.default_rng(0)
    # 50 MB of text junk (no NUL bytes, so it is parsed, not just sniffed as binary).
    junk = rng.integers(0x21, 0x7F, size=50 * 1024 * 1024, dtype=np.uint8)
    junk[::97] = ord("\n")
    (bad / "junk50mb.pgn").write_bytes(junk.tobytes())
    (bad / "random.pgn").write_bytes(rng.integers(0, 256, size=1 << 20, dtype=np.uint8).tobytes())
    with zipfile.ZipFile(root / "evil.zip", "w") as z:
        z.writestr("../evil.pgn", write_game(good[3], "iccs"))
        z.writestr("/abs/evil2.pgn", write_game(good[4], "iccs"))
        z.writestr("../../junk.pgn", "1. 炮二平五 马８进７ 2. 马二退三\n")
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for i in range(200):
            payload = write_game(good[i % 5], "iccs").encode()
            info = tarfile.TarInfo(f"games/{i:03d}.pgn")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    (root / "cut.tar.gz").write_bytes(data.getvalue()[: len(data.getvalue()) // 2])
    (root / "notazip.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    return [str(bad), str(root / "evil.zip"), str(root / "cut.tar.gz"), str(root / "notazip.zip")]


def test_bad_input_gives_clear_errors_and_the_build_goes_on(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    sources = make_bad_sources(root)
    out = tmp_path / "out" / "ds"
    before = files_under(tmp_path.parent)
    summary = build(sources, str(out), workers=2)

    assert summary["rejected_by_reason"] == {
        "invalid move": 3,  # truncated, garbage, 50 MB junk
        "binary data": 2,  # random bytes, UTF-16 without BOM
        "illegal move": 2,  # illegal.pgn, ../../junk.pgn
        "no game": 1, "unreadable archive": 2}
    # ok.pgn, ../evil.pgn, /abs/evil2.pgn, and the tar members before the cut: accepted.
    assert summary["files"] == summary["files_accepted"] + 10
    assert summary["unique"] == 5 and summary["accepted"] > 3
    messages = "\n".join(summary["rejected_examples"])
    for expected in ("truncated.pgn game 0 ply", "illegal.pgn game 0 ply 3: illegal move",
                     "empty.pgn: no game found", "garbage.pgn game 0 ply 1: invalid move",
                     "random.pgn game 0: binary data", "evil.zip:../../junk.pgn game 0 ply 3",
                     "cut.tar.gz: unreadable archive", "notazip.zip: unreadable archive"):
        assert expected in messages, expected
    created = files_under(tmp_path.parent) - before
    assert created and all(out in p.parents or p in out.parents or p == out for p in created), created


def test_file_over_the_size_limit_is_not_read(tmp_path, monkeypatch):
    import data.dataset as dataset

    (tmp_path / "big.pgn").write_text(write_game(sample_games()[0], "iccs"))
    (tmp_path / "dir.pgn").mkdir()
    (tmp_path / "dir.pgn" / "ok.pgn").write_text("1. h2e2\n")
    monkeypatch.setattr(dataset, "MAX_FILE_BYTES", 100)
    summary = check([str(tmp_path), str(tmp_path / "dir.pgn" / "ok.pgn"), str(tmp_path / "dir.pgn")],
                    workers=1)
    # ok.pgn is read three times (folder, file, folder named like a file): one game, two duplicates.
    assert (summary["files"], summary["unique"], summary["duplicates"]) == (4, 1, 2)
    assert summary["rejected_by_reason"] == {"file too large": 1}


def test_missing_source_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        build([str(SAMPLES), str(tmp_path / "nope")], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


# -- the real corpus --------------------------------------------------------------------------

@pytest.mark.slow  # about 40 s on two idle cores, over 3 min when they are shared
def test_ccpd_builds_with_99_percent_of_files_accepted(ccpd_path, tmp_path):
    start = time.perf_counter()
    summary = build([str(ccpd_path)], str(tmp_path / "ccpd"), workers=2)
    elapsed = time.perf_counter() - start
    print(f"CCPD build: {elapsed:.0f} s on {os.cpu_count()} cores")
    assert summary["files"] == 58468
    assert summary["files_accepted"] >= 0.99 * summary["files"]
    assert summary["games"] == summary["accepted"] + summary["rejected"]
    merged = summary["duplicates"] + summary["near_duplicates"] + summary["fragments"]
    assert summary["accepted"] == summary["unique"] + merged
    assert 25_000 < summary["unique"] < 40_000 and summary["plies"] > 2_000_000
    splits = summary["splits"]
    assert sum(s["games"] for s in splits.values()) == summary["unique"]
    assert 0.02 < splits["val"]["games"] / summary["unique"] < 0.03
    assert read_pgn_file(str(tmp_path / "ccpd" / "test.pgn"))[0].moves
    # No held-out game shares its first 30 plies (all, if shorter) with a training game; before
    # the records with a mistyped set-up position were merged, 2 validation and 1 test game did.
    assert summary["shared_heads"] == {"val": 0, "test": 0}


@pytest.mark.slow  # about 2 min on two idle cores
def test_ccpd_and_cchess_merge_into_one_dataset(ccpd_path, cchess_path, tmp_path):
    """The two real sources: the cchess records' 象棋巫师 footers read, copies merged across the
    sources, every source counted, no held-out game sharing its head with a training game, and the
    弈天 games' ratings kept beside the arrays."""
    out = tmp_path / "all"
    summary = build([str(ccpd_path), str(cchess_path)], str(out), workers=2)
    ccpd, cchess = summary["sources"]
    assert (ccpd["files"], cchess["files"]) == (58468, 20049)
    assert cchess["files_accepted"] >= 0.995 * cchess["files"]
    assert ccpd["new"] == ccpd["unique"] > 27_000 and 0 < cchess["new"] < cchess["unique"]
    assert ccpd["new"] + cchess["new"] == summary["unique"]
    assert summary["shared_heads"] == {"val": 0, "test": 0}
    metadata = [m for split in ("train", "val", "test") for m in load_metadata(str(out), split)]
    assert len(metadata) == summary["unique"]
    rated = [m for m in metadata if m["red_elo"] and m["black_elo"]]
    assert len(rated) > 3500 and all(2000 < m["red_elo"] < 3100 for m in rated)
    assert all(m["source"].startswith(str(cchess_path)) for m in rated)


def test_unreadable_file_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    (tmp_path / "a.pgn").write_text(write_game(sample_games()[0], "iccs"))
    (tmp_path / "b.pgn").write_text(write_game(sample_games()[1], "iccs"))
    real_open = Path.open

    def open_file(path: Path, *args, **kwargs):
        if path.name == "a.pgn":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_file)
    summary = check([str(tmp_path)], workers=1)
    assert summary["rejected_by_reason"] == {"unreadable file": 1} and summary["unique"] == 1
    assert "a.pgn: unreadable file: [Errno 13] Permission denied" in summary["rejected_examples"][0]
