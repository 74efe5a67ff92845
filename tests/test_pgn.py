"""PGN reader and writer: the fixture games, CCPD games, encodings, movetext and bad input."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from xiangqi import STARTING_FEN, Board, Move
from xiangqi.notation import render_move
from xiangqi.pgn import (
    Game,
    PgnError,
    decode_bytes,
    movetext_tokens,
    read_games,
    read_pgn_file,
    split_games,
    write_game,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
NOTATIONS = ("chinese", "chinese-traditional", "wxf", "iccs")


def games_of(text: str, source: str = "") -> list[Game]:
    out = list(read_games(text, source=source))
    errors = [g for g in out if isinstance(g, PgnError)]
    assert not errors, errors
    return out  # type: ignore[return-value]


def only_error(text: str) -> PgnError:
    (err,) = list(read_games(text, source="t.pgn"))
    assert isinstance(err, PgnError), err
    return err


def same_game(a: Game, b: Game) -> bool:
    """Same position, moves and result; same headers but those the writer sets."""
    def own(h: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in h.items() if k not in ("Format", "Result", "FEN")}
    return (a.fen, a.moves, a.result, own(a.headers)) == (b.fen, b.moves, b.result, own(b.headers))


def round_trip(game: Game, notation: str) -> Game:
    """The game written and read back; writing it again gives the same text."""
    text = write_game(game, notation)
    (back,) = games_of(text)
    assert write_game(back, notation) == text
    return back


@pytest.fixture(scope="module")
def wxf15(wxf15_paths) -> dict[str, list[Game]]:
    out = {}
    for notation, path in wxf15_paths.items():
        games = read_pgn_file(str(path))
        assert all(isinstance(g, Game) for g in games), [g for g in games if isinstance(g, PgnError)]
        out[notation] = games
    return out


# -- the fixture games ------------------------------------------------------------------------

def test_wxf15_three_notations_give_the_same_games_but_one_move(wxf15):
    chinese, wxf, iccs = wxf15["chinese"], wxf15["wxf"], wxf15["iccs"]
    assert len(chinese) == len(wxf) == len(iccs) == 15
    assert [g.notation for g in chinese + wxf + iccs] == ["chinese"] * 15 + ["wxf"] * 15 + ["iccs"] * 15
    differences = []
    for i, (c, w, u) in enumerate(zip(chinese, wxf, iccs, strict=True)):
        assert c.headers == w.headers == u.headers
        assert c.fen == w.fen == u.fen == STARTING_FEN
        assert len(c.moves) == len(w.moves) == len(u.moves)
        assert c.moves == w.moves
        differences += [(i, ply, c.moves[ply].uci(), u.moves[ply].uci())
                        for ply in range(len(c.moves)) if c.moves[ply] != u.moves[ply]]
    # Game 2, move 36 (Red's 36th move is ply index 70): the sources disagree.
    assert differences == [(1, 70, "e3e4", "e5e6")]
    assert sum(len(g.moves) for g in chinese) == 1378


@pytest.mark.parametrize("notation", NOTATIONS)
def test_writer_round_trips_the_fixtures(wxf15, notation):
    for game in wxf15["chinese"]:
        back = round_trip(game, notation)
        assert same_game(back, game)
        assert back.notation == ("chinese" if notation.startswith("chinese") else notation)


def test_samples_are_the_writer_output_of_the_fixtures(wxf15):
    """data/samples holds the first three fixture games in each notation and two set-up games."""
    first3 = wxf15["chinese"][:3]
    for notation in ("chinese", "wxf", "iccs"):
        expected = "\n".join(write_game(g, notation) for g in first3)
        assert (SAMPLES / f"wxf15_first3_{notation}.pgn").read_text(encoding="utf-8") == expected
    setups = games_of((SAMPLES / "setup_fen_chinese.pgn").read_text(encoding="utf-8"))
    for setup, (index, start) in zip(setups, ((0, 20), (1, 31)), strict=True):
        board = first3[index].board()
        for move in first3[index].moves[:start]:
            board.push(move)
        assert setup.fen == board.fen()
        assert setup.moves == first3[index].moves[start:]


def test_setup_game_with_black_to_move():
    text = (SAMPLES / "setup_fen_chinese.pgn").read_text(encoding="utf-8")
    assert "16... 士４进５" in text
    red, black = games_of(text)
    assert red.board().turn and not black.board().turn
    for notation in NOTATIONS:
        assert same_game(round_trip(black, notation), black)


# -- CCPD -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ccpd_sample(ccpd_path) -> list[Game]:
    """Every 150th file of the archive (about 390 games), set-up positions included."""
    games: list[Game] = []
    with tarfile.open(ccpd_path) as tar:
        files = (m for m in tar if m.isfile() and m.name.endswith(".pgn"))
        for i, member in enumerate(files):
            if i % 150 == 0:
                f = tar.extractfile(member)
                assert f is not None
                games += [g for g in read_games(decode_bytes(f.read()), source=member.name)
                          if isinstance(g, Game) and g.moves]
    return games


def test_ccpd_sample_reads(ccpd_sample):
    assert len(ccpd_sample) > 350
    assert {g.notation for g in ccpd_sample} == {"chinese"}
    assert any(g.fen.split()[0] != STARTING_FEN.split()[0] for g in ccpd_sample)
    assert all(g.headers.get("Event") for g in ccpd_sample)  # Big5 headers decoded


@pytest.mark.parametrize("notation", NOTATIONS)
def test_writer_round_trips_ccpd_games(ccpd_sample, notation):
    for game in ccpd_sample:
        assert same_game(round_trip(game, notation), game), game.headers


# -- encodings --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_games() -> list[Game]:
    return games_of((SAMPLES / "wxf15_first3_chinese.pgn").read_text(encoding="utf-8"))


@pytest.mark.parametrize("notation,encoding", [
    ("chinese", "utf-8"), ("chinese", "utf-8-sig"), ("chinese", "gb18030"), ("chinese", "gbk"),
    ("chinese", "utf-16"), ("chinese-traditional", "big5"), ("chinese-traditional", "cp950"),
    ("chinese-traditional", "utf-8-sig"), ("chinese-traditional", "gb18030"),
])
def test_encodings(three_games, notation, encoding):
    text = "\n".join(write_game(g, notation) for g in three_games)
    data = text.encode(encoding)
    assert decode_bytes(data) == text
    assert all(same_game(a, b) for a, b in zip(games_of(decode_bytes(data)), three_games, strict=True))


def test_file_mixing_utf8_and_gbk_lines_reads(three_games):
    a, b, c = (write_game(g, "chinese") for g in three_games)
    data = a.encode("utf-8") + b"\n" + b.encode("gbk") + b"\n" + c.encode("utf-8")
    assert [g.moves for g in games_of(decode_bytes(data))] == [g.moves for g in three_games]


def test_file_mixing_big5_and_gbk_rejects_the_minority_game(three_games, tmp_path):
    a, b, c = (write_game(g, "chinese-traditional") for g in three_games)
    path = tmp_path / "mixed.pgn"
    path.write_bytes(a.encode("big5") + b"\n" + b.encode("gbk") + b"\n" + c.encode("big5"))
    first, second, third = read_pgn_file(str(path))
    assert first.moves == three_games[0].moves and third.moves == three_games[2].moves
    assert isinstance(second, PgnError)
    assert (second.source, second.game, second.ply, second.kind) == (str(path), 1, 1, "invalid move")


def test_binary_data_is_one_clear_error():
    err = only_error(decode_bytes(bytes(range(256)) * 10))
    assert err.kind == "binary data" and err.source == "t.pgn"


# -- movetext ---------------------------------------------------------------------------------

def test_movetext_numbers_comments_variations_results():
    text = """[Event "x"]
[Result "1-0"]

; a line comment before the moves
1.炮二平五 {Central cannon; the most common} 马８进７ $1
2. 马二进三 (2. 兵七进一 (2. 马八进七 卒７进１) 卒７进１ {nested}) 2... 车９平８!?
3.车一平二 ; rest of line ignored (not a variation
 卒７进１ 1-0
"""
    (game,) = games_of(text)
    assert [m.uci() for m in game.moves] == ["h2e2", "h9g7", "h0g2", "i9h9", "i0h0", "g6g5"]
    assert game.result == "1-0"
    assert game.headers == {"Event": "x", "Result": "1-0"}


@pytest.mark.parametrize("result", ["1-0", "0-1", "1/2-1/2", "*"])
def test_results(result):
    (game,) = games_of(f'[Result "?"]\n\n1. h2e2 h9g7 {{end}} {result}\n')
    assert game.result == result
    assert write_game(game, "iccs").rstrip().endswith(result)


def test_movetext_tokens_and_iccs_variants():
    assert movetext_tokens("1. H2-E2 h9-g7 2.h0g2 1/2-1/2") == (["H2-E2", "h9-g7", "h0g2"], "1/2-1/2")
    (game,) = games_of("1. H2-E2 h9-g7 2.h0g2\n")
    assert [m.uci() for m in game.moves] == ["h2e2", "h9g7", "h0g2"]


def test_fullwidth_wxf_and_traditional_chinese():
    (wxf,) = games_of("1. Ｃ２＝５ Ｈ８＋７ 2. Ｈ２＋３ Ｒ９．８\n")
    (trad,) = games_of("1. 炮二平五 馬８進７ 2. 馬二進三 車９平８\n")
    assert wxf.moves == trad.moves and wxf.notation == "wxf" and trad.notation == "chinese"


def test_multi_game_file_and_header_escapes():
    headers = {"Event": 'The "Cup" \\ 2024', "Site": 'a\\"b\\', "Red": "紅方"}
    game = Game(headers=headers, moves=[Move.from_uci("h2e2")])
    text = write_game(game, "wxf") * 2 + '[Event "no moves"]\n[Event "again"]\n'
    first, second, empty = games_of(text)
    assert {k: first.headers[k] for k in headers} == headers and same_game(first, second)
    assert empty.headers == {"Event": "again"} and not empty.moves  # a repeated key keeps its last value
    repeated, = games_of('[Event "a"]\n[Event "b"]\n\n1. h2e2 h9g7 *\n')
    assert repeated.headers["Event"] == "b" and [m.uci() for m in repeated.moves] == ["h2e2", "h9g7"]
    assert split_games("") == [] and games_of("\n\n") == []


def xqwizard_record(game: Game, result: str, comment: str) -> str:
    """A game laid out as 象棋巫师 / 象棋百科全书 write it: the result on its own line after a
    comment, then a separator and the site's footer before the next game's headers."""
    board, lines = game.board(), []
    for ply, move in enumerate(game.moves):
        text = render_move(board, move, "chinese")
        lines.append(f" {ply // 2 + 1}. {text}" if ply % 2 == 0 else f"{lines.pop()} {text}")
        board.push(move)
    headers = ['[Event "弈天 2009"]', f'[Result "{result}"]', '[RedElo "2451"]', '[BlackElo "2380"]']
    footer = ["=" * 28, " 欢迎访问《象棋百科全书网》 ", " 推荐用《象棋巫师》观赏棋谱 ",
              "http://www.elephantbase.net/"]
    return "\n".join(headers + lines + ["{" + comment + "}", f" {result}"] + footer) + "\n"


def test_site_footer_after_the_result_is_not_movetext(three_games):
    """Text after a game's result, up to the next game's headers, is not read (GB18030 file)."""
    first, second, _ = three_games
    text = xqwizard_record(first, "1/2-1/2", "议和") + xqwizard_record(second, "1-0", "认负")
    assert " 1. 炮二平五 马８进７\n" in text
    a, b = games_of(decode_bytes(text.encode("gb18030")), source="f.pgn")
    assert (a.moves, a.result, a.comments[len(a.moves)]) == (first.moves, "1/2-1/2", "议和")
    assert (b.moves, b.result, b.headers["RedElo"]) == (second.moves, "1-0", "2451")
    # A result ends the movetext; one inside a variation does not.
    assert movetext_tokens("1. h2e2 h9g7 1-0\n=====\n2. xyzzy {") == (["h2e2", "h9g7"], "1-0")
    (game,) = games_of("1. h2e2 (1. h2d2 0-1) h9g7 *\n=====\n")
    assert [m.uci() for m in game.moves] == ["h2e2", "h9g7"] and game.variations[0].moves


# -- rejections -------------------------------------------------------------------------------

def test_illegal_move_is_rejected_with_its_place():
    err = only_error('[Event "x"]\n\n1. 炮二平五 马８进７ 2. 车一进四 车９平８\n')
    assert (err.source, err.game, err.ply, err.text, err.kind) == ("t.pgn", 0, 3, "车一进四", "illegal move")
    assert "t.pgn game 0 ply 3" in str(err)


@pytest.mark.parametrize("text,kind,ply,offending", [
    ("1. h2e2 h9g7 2. xyzzy\n", "invalid move", 3, "xyzzy"),
    ("1. C2=5 H8+7 2. P7+1 Q1+1\n", "invalid move", 4, "Q1+1"),
    ("1. 炮二平五 马８进７ 2. 马二进\n", "invalid move", 3, "马二进"),          # truncated move
    ("1. h2e2 h9g7 2. h0g2 {a comment cut sh\n", "unterminated comment", 4, ""),
    ("1. h2e2 (1. b2e2 h9g7 2. h0g2\n", "unbalanced variation", 2, ""),
    ("1. h2e2 h9g7) 2. h0g2\n", "unbalanced variation", 3, ""),
    ("1. h2e2 h9h0\n", "illegal move", 2, "h9h0"),
])
def test_bad_movetext_is_rejected_not_truncated(text, kind, ply, offending):
    err = only_error(text)
    assert (err.kind, err.ply, err.text) == (kind, ply, offending)


def test_bad_fen_is_rejected():
    no_red_general = "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBA1ABNR w - - 0 1"
    err = only_error(f'[FEN "{no_red_general}"]\n\n1. h2e2\n')
    assert err.kind == "bad FEN" and "general" in err.reason


def test_one_bad_game_does_not_hide_the_others(three_games):
    a, b, c = (write_game(g, "chinese") for g in three_games)
    b = b.replace("马二进三", "马二进五", 1)
    out = list(read_games(a + b + c, source="f.pgn"))
    assert [type(g).__name__ for g in out] == ["Game", "PgnError", "Game"]
    assert out[1].game == 1 and out[1].text == "马二进五"


def test_truncated_file_rejects_the_last_game_only(three_games):
    text = "\n".join(write_game(g, "chinese") for g in three_games)
    data = text.encode("gbk")
    cut = data[: len(data) - 41]  # in the middle of the last game's moves, maybe mid-character
    out = list(read_games(decode_bytes(cut)))
    assert [g.moves for g in out[:2]] == [g.moves for g in three_games[:2]]
    last = out[2]
    assert isinstance(last, PgnError) or len(last.moves) < len(three_games[2].moves)


def test_write_game_rejects_unknown_notation():
    with pytest.raises(ValueError):
        write_game(Game(), "klingon")
    assert Board(Game().fen) == Game().board()
