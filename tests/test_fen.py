"""FEN reading, writing and validation."""

from __future__ import annotations

import re

import pytest

from xiangqi import BLACK, RED, STARTING_FEN, Board, InvalidFenError

START_BOARD = STARTING_FEN.split()[0]


@pytest.mark.parametrize("fen", [
    STARTING_FEN,
    "r1ba1a3/4kn3/2n1b4/pNp1p1p1p/4c4/6P2/P1P2R2P/1CcC5/9/2BAKAB2 w - - 0 1",
    "C1nNk4/9/9/9/9/9/n1pp5/B3C4/9/3A1K3 b - - 17 42",
    "4k4/9/9/9/9/9/9/9/9/3K5 b - - 0 60",
])
def test_round_trip(fen: str) -> None:
    assert Board(fen).fen() == fen


def test_round_trip_after_moves() -> None:
    board = Board()
    for uci in ("h2e2", "h9g7", "h0g2", "i9h9"):
        board.push_uci(uci)
        assert Board(board.fen()).fen() == board.fen()
    assert board.fen() == "rnbakabr1/9/1c4nc1/p1p1p1p1p/9/9/P1P1P1P1P/1C2C1N2/9/RNBAKAB1R w - - 4 3"


def test_aliases_and_defaults() -> None:
    board = Board("rheakaehr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RHEAKAEHR r")
    assert board.fen() == STARTING_FEN
    assert Board(START_BOARD).turn == RED
    assert Board(START_BOARD + " b").turn == BLACK
    assert Board(START_BOARD + " W - - 3 7").fen() == START_BOARD + " w - - 3 7"


@pytest.mark.parametrize("fen, message", [
    ("", "empty FEN"),
    (START_BOARD.rsplit("/", 1)[0] + " w", "9 ranks, 10 expected"),
    (START_BOARD + "/9 w", "11 ranks"),
    (START_BOARD.replace("1c5c1", "1c5x1") + " w", "invalid piece letter 'x'"),
    (START_BOARD.replace("1c5c1", "1c5c2") + " w", "10 files, 9 expected"),
    (START_BOARD.replace("1c5c1", "1c5c") + " w", "8 files, 9 expected"),
    (START_BOARD.replace("/9/", "/45/", 1) + " w", "two digits in a row"),
    (START_BOARD.replace("/9/", "/９/", 1) + " w", "invalid piece letter"),
    (START_BOARD + " x", "invalid side to move 'x'"),
    (START_BOARD + " w - - x 1", "move counters must be integers"),
    (START_BOARD + " w - - -1 1", "move counters out of range"),
    (START_BOARD + " w - - 0 1 9", "7 fields"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C2K2C1/9/RNBAKABNR w",
     "red must have exactly one general, found 2"),
    ("rnba1abnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w",
     "black must have exactly one general, found 0"),
    ("4k4/9/9/9/9/9/9/9/K8/9 w", "red general on a1 is outside the palace"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/PPPPPPPPP/P1P1P1P1P/1C5C1/9/RNBAKABNR w",
     "red has 14 soldiers, at most 5"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C2A2C1/9/RNB1KABNR w",
     "red advisor on e2 is not on an advisor point"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C1B3C1/9/RN1AKABNR w",
     "red elephant on d2 is not on an elephant point"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/4B4/9/P1P1P1P1P/1C5C1/9/RN1AKABNR w", "red elephant on e5"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/PP2P1P1P/1C5C1/9/RNBAKABNR w", "red soldier on b3 cannot be reached"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/2P1P1P1P/PC5C1/9/RNBAKABNR w", "red soldier on a2 cannot be reached"),
    ("rnbakabnr/p8/1c5c1/2p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w",
     "black soldier on a8 cannot be reached"),
    ("4k3R/9/9/9/9/9/9/9/9/3K5 w", "the side not to move (black) is in check"),
    ("4k4/9/9/9/9/9/9/9/9/4K4 w", "the generals face each other"),
    ("rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RRBAKABNR w", "red has 3 chariots, at most 2"),
])
def test_invalid(fen: str, message: str) -> None:
    with pytest.raises(InvalidFenError, match=re.escape(message)):
        Board(fen)


@pytest.mark.parametrize("fen", [
    "9/4k4/9/9/9/9/9/9/4A4/3K5 w",  # generals off the back rank, advisor screening
    "3k5/9/9/9/9/9/9/9/9/4K3R b",  # black to move may be in check
    "2P1k1P2/9/9/9/9/9/9/4p4/9/4K4 w",  # soldiers across the river anywhere
    "3k5/9/9/9/9/2B3B2/9/9/9/4K4 w",  # elephants on the river bank
])
def test_valid_edge_cases(fen: str) -> None:
    assert Board(fen).board_fen() == fen.split()[0]


def test_not_a_string() -> None:
    with pytest.raises(InvalidFenError):
        Board(42)  # type: ignore[arg-type]


def test_failed_set_fen_keeps_position() -> None:
    board = Board()
    board.push_uci("h2e2")
    with pytest.raises(InvalidFenError):
        board.set_fen("4k4/9/9/9/9/9/9/9/9/4K4 w")
    assert board.fen() == "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C2C4/9/RNBAKABNR b - - 1 1"
    assert len(board.move_stack) == 1
