"""ICCS, WXF and Chinese notation: the fixture games, round trips, tandem pieces, bad input."""

from __future__ import annotations

import re

import pytest

from xiangqi import AmbiguousMoveError, Board, IllegalMoveError, InvalidMoveError, Move
from xiangqi.notation import parse_move, render_move, to_chinese, to_wxf
from xiangqi.pgn import read_pgn_file


@pytest.fixture(scope="module")
def fixture_games(wxf15_paths):
    games = {k: read_pgn_file(str(p)) for k, p in wxf15_paths.items()}
    for notation, read in games.items():
        assert len(read) == 15 and all(hasattr(g, "moves") for g in read), notation
    return games


def test_three_notations_give_the_same_iccs(fixture_games) -> None:
    differences = []
    for n in range(15):
        chinese, wxf, iccs = ([m.uci() for m in fixture_games[k][n].moves]
                              for k in ("chinese", "wxf", "iccs"))
        assert chinese == wxf
        assert len(chinese) == len(iccs)
        differences += [(n + 1, i, a, b)
                        for i, (a, b) in enumerate(zip(chinese, iccs, strict=True)) if a != b]
    # The one source error: game 2, Red's 36th move (ply 70) is e3e4 in Chinese/WXF, e5e6 in UCI.
    assert differences == [(2, 70, "e3e4", "e5e6")]


def _renderings(board: Board, move: Move) -> list[str]:
    return [to_wxf(board, move), to_wxf(board, move, fullwidth=True), to_chinese(board, move),
            to_chinese(board, move, traditional=True), move.uci()]


def test_every_legal_move_of_fixture_positions_round_trips(fixture_games) -> None:
    checked = 0
    for game in fixture_games["iccs"]:
        board = game.board()
        for ply, move in enumerate(game.moves):
            if ply % 6 == 0:  # every sixth position keeps this to about a second
                for legal in board.legal_moves:
                    for text in _renderings(board, legal):
                        assert parse_move(board, text) == legal, (board.fen(), text)
                        checked += 1
            board.push(move)
    assert checked > 20000


def test_fixture_text_is_reproduced(fixture_games) -> None:
    game = fixture_games["chinese"][0]
    board = game.board()
    rendered = []
    for move in game.moves[:4]:
        rendered.append(render_move(board, move, "chinese"))
        board.push(move)
    assert rendered == ["炮二平五", "马８进７", "马二进三", "车９平８"]
    board = game.board()
    assert to_wxf(board, game.moves[0], fullwidth=True) == "Ｃ２＝５"
    assert render_move(board, game.moves[0], "chinese-traditional") == "炮二平五"


@pytest.mark.parametrize("fen, uci, wxf, chinese", [
    # two chariots on one file: front/rear
    ("3k5/9/9/9/9/9/1R7/9/1R7/4K4 w", "b3b5", "+R+2", "前车进二"),
    ("3k5/9/9/9/9/9/1R7/9/1R7/4K4 w", "b1a1", "-R=9", "后车平九"),
    # black horses: front is the one nearer red's side
    ("3k5/9/9/1n7/9/1n7/9/9/9/4K4 b", "b4c2", "+H+3", "前马进３"),
    # three soldiers on a file: front, middle, rear
    ("5k3/9/4P4/4P4/4P4/9/9/9/9/3K5 w", "e7e8", "1P+1", "前兵进一"),
    ("5k3/9/4P4/4P4/4P4/9/9/9/9/3K5 w", "e6f6", "2P=4", "中兵平四"),
    ("5k3/9/4P4/4P4/4P4/9/9/9/9/3K5 w", "e5d5", "3P=6", "后兵平六"),
    # four soldiers on a file: ordinals from the front
    ("5k3/4P4/4P4/4P4/4P4/9/9/9/9/3K5 w", "e6d6", "3P=6", "三兵平六"),
    # doubled soldiers on two files: the file is kept
    ("4k4/9/2P3P2/2P3P2/9/9/9/9/9/3K5 w", "c7c8", "+P7+1", "前七进一"),
    ("4k4/9/2P3P2/2P3P2/9/9/9/9/9/3K5 w", "g6h6", "-P3=2", "后三平二"),
])
def test_tandem_pieces(fen: str, uci: str, wxf: str, chinese: str) -> None:
    board = Board(fen)
    move = Move.from_uci(uci)
    assert to_wxf(board, move) == wxf
    assert to_chinese(board, move) == chinese
    assert parse_move(board, wxf) == move
    assert parse_move(board, chinese) == move
    assert parse_move(board, to_chinese(board, move, traditional=True)) == move


def test_fairy_stockfish_tandem_style_is_accepted() -> None:
    board = Board("3k5/9/9/9/9/9/1R7/9/1R7/4K4 w")
    assert parse_move(board, "R++2") == Move.from_uci("b3b5")
    assert parse_move(board, "R-=9") == Move.from_uci("b1a1")


@pytest.mark.parametrize("text, error, message", [
    ("", InvalidMoveError, "invalid WXF move"),
    ("xyz", InvalidMoveError, "invalid WXF move 'xyz'"),
    ("C2=", InvalidMoveError, "invalid WXF move"),
    ("炮二平", InvalidMoveError, "invalid Chinese move"),
    ("炮二飞五", InvalidMoveError, "invalid Chinese move"),
    ("h2e9", IllegalMoveError, "illegal move h2e9"),
    ("a0a0", IllegalMoveError, "illegal move"),
    ("C2+9", IllegalMoveError, "move 'C2+9' is illegal"),
    ("C3=5", IllegalMoveError, "no piece matches 'C3=5'"),
    ("兵五进二", IllegalMoveError, "is illegal"),
    ("+C8=5", IllegalMoveError, "no piece matches"),
])
def test_bad_move_text(text: str, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        parse_move(Board(), text)


def test_ambiguous_move_text() -> None:
    # Two horses on file 8 can both go forward to file 7.
    board = Board("3k5/9/9/9/9/9/9/1N7/9/1N2K4 w")
    with pytest.raises(AmbiguousMoveError, match="ambiguous"):
        parse_move(board, "马八进七")
    assert parse_move(board, "前马进七") == Move.from_uci("b2c4")
    assert parse_move(board, "-H8+7") == Move.from_uci("b0c2")


def test_invalid_uci() -> None:
    with pytest.raises(InvalidMoveError, match="invalid ICCS move"):
        Move.from_uci("j0a0")
    with pytest.raises(IllegalMoveError):
        Board().push_uci("a0a5")
    with pytest.raises(ValueError, match="unknown notation"):
        render_move(Board(), Move.from_uci("h2e2"), "klingon")
