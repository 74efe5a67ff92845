"""Perpetual chase under the Asian (AXF) rules: worked repetition cycles and single chasing moves.

Each cycle is a FEN and four moves that return to it; played twice, the start position occurs a
third time and ``outcome()`` judges the cycle. "Rule n" refers to the AXF rules in the WXF's
English translation (www.wxf.org/xq/rule/asia/); docs/chase.md has the definition.
"""

from __future__ import annotations

import pytest

from xiangqi import (
    BLACK,
    CANNON,
    CHARIOT,
    RED,
    SOLDIER,
    Board,
    Move,
    Outcome,
    Piece,
    Termination,
    parse_square,
    square_name,
)
from xiangqi.chase import chased

DRAW = Outcome(Termination.REPETITION, None)


def chase_by(loser, piece_type, square: str) -> Outcome:
    """Perpetual chase by ``loser`` of the opponent's ``piece_type`` now on ``square``."""
    chased_piece = (Piece(piece_type, not loser), parse_square(square))
    return Outcome(Termination.PERPETUAL_CHASE, not loser, chased_piece)


# (name, FEN, the four moves of the cycle, the verdict, whether pyffish (Fairy-Stockfish) agrees)
CYCLES = [
    ("chariot chases an unprotected cannon (rules 18)",
     "4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1", "a7b7 a5b5 b7a7 b5a5", chase_by(RED, CANNON, "a7"), True),
    ("black chariot chases a red cannon, judged with red to move",
     "3k5/9/9/9/9/r8/9/C8/9/4K4 w - - 0 1", "a2b2 a4b4 b2a2 b4a4", chase_by(BLACK, CANNON, "a2"), True),
    ("the cannon is protected by a chariot on its rank: no chase",
     "4k4/9/c7r/9/R8/9/9/9/9/3K5 b - - 0 1", "a7b7 a5b5 b7a7 b5a5", DRAW, True),
    ("cannon chases a protected chariot (rule 15)",
     "4k4/9/r7r/9/PP7/9/C8/9/9/3K5 b - - 0 1", "a7b7 a3b3 b7a7 b3a3", chase_by(RED, CHARIOT, "a7"), True),
    ("horse chases a protected chariot (rule 15)",
     "2r1k4/9/2r6/9/1N7/9/9/9/9/3K5 b - - 0 1", "c7c6 b5d4 c6c7 d4b5", chase_by(RED, CHARIOT, "c7"), True),
    ("the only protector is a horse pinned to its general: a chase",
     "4k4/R8/4n4/2c6/9/9/9/4R4/9/3K5 w - - 0 1", "a8a6 c6c8 a6a8 c8c6", chase_by(RED, CANNON, "c6"), True),
    ("the same horse unpinned protects the cannon: no chase",
     "4k4/R8/4n4/2c6/9/9/9/9/9/3K5 w - - 0 1", "a8a6 c6c8 a6a8 c8c6", DRAW, True),
    ("chariots attack each other: an offer to exchange, no chase (rule 24)",
     "4k4/9/R1r6/9/9/9/9/9/9/3K5 b - - 0 1", "c7c6 a7a6 c6c7 a6a7", DRAW, True),
    ("the attacked chariot is pinned and cannot take back: a chase (rule 24)",
     "4k4/9/R3r4/9/9/9/9/9/4R4/3K5 b - - 0 1", "e7e6 a7a6 e6e7 a6a7", chase_by(RED, CHARIOT, "e7"), True),
    ("the general may chase (rule 28)",
     "5k3/9/9/9/9/9/9/4c4/4K4/9 b - - 0 1", "e2d2 e1d1 d2e2 d1e1", DRAW, True),
    ("a soldier may chase",
     "4k4/9/9/4c4/4P4/9/9/9/9/5K3 b - - 0 1", "e6d6 e5d5 d6e6 d5e5", DRAW, True),
    ("a soldier across the river can be chased",
     "4k4/9/R8/9/9/9/p8/9/9/3K5 b - - 0 1", "a3b3 a7b7 b3a3 b7a7", chase_by(RED, SOLDIER, "a3"), True),
    ("one check, one chase: a draw (rule 12)",
     "4k4/9/R1c6/9/9/9/9/9/9/3K5 w - - 0 1", "a7a9 e9e8 a9a7 e8e9", DRAW, True),
    ("a check does not unprotect the checked side: its chariots still attack each other",
     "5k3/9/r8/2Nc5/9/R8/9/8p/9/3K5 w - - 0 1", "c6d8 f9e9 d8c6 e9f9", DRAW, True),
    ("perpetual check loses (rule 6)",
     "R3k4/9/9/9/9/9/9/9/9/3K5 b - - 0 1", "e9e8 a9a8 e8e9 a8a9", Outcome(Termination.PERPETUAL_CHECK, BLACK),
     True),
    ("both sides check with every move: a draw (rule 7)",
     "3kr4/9/9/4cN3/9/5n3/9/4N4/3C5/4K4 w - - 0 1", "e2d4 e6d6 d4e2 d6e6", DRAW, True),
    ("one chariot chases two pieces in turn: allowed (rule 32)",
     "4k4/c7n/9/9/R8/9/9/9/9/3K5 w - - 0 1", "a5i5 e9e8 i5a5 e8e9", DRAW, True),
    ("the chasing chariot stays on the cannon's file, the cannon never escapes (appendix)",
     "3k5/9/7c1/9/9/9/9/7R1/9/4K4 w - - 0 1", "h2h3 h7h6 h3h2 h6h7", DRAW, True),
    ("a chariot pinned to its general threatens nothing",
     "3k5/4r4/9/9/9/c3R4/9/9/9/4K4 b - - 0 1", "a4a3 e4e3 a3a4 e3e4", DRAW, False),
    ("a cannon that blocks the flying general threatens nothing",
     "5k3/9/1N2bcc2/9/9/9/9/p8/9/5K3 b - - 0 1", "e7c9 f0f1 c9e7 f1f0", DRAW, False),
    ("the horse steps into the chariot's file; the chariot keeps, not makes, the threat",
     "3k5/9/9/2r6/9/9/1N7/9/9/5K3 b - - 0 1", "c6c3 b3c1 c3c6 c1b3", DRAW, False),
    ("idle moves by both sides", "3k5/9/9/9/r8/9/9/9/9/4K3R w - - 0 1", "i0i1 a5a6 i1i0 a6a5", DRAW, True),
    # From a random playout: each move of the red cannon takes the protection (by the cannon on
    # h4 over the screen on h2, or by the chariot on h7) away from the black cannon on h1, which
    # the red chariot on i1 attacks: the AXF appendix's pattern. Fairy-Stockfish sees no chase.
    ("a piece that keeps taking a piece's protection away chases it (appendix)",
     "rn1akab2/1C2n4/b6r1/p1p1p1p1p/9/7cP/P1P1P1P2/7C1/7cR/RNBAKABN1 w - - 36 19", "h2d2 h4g4 d2h2 g4h4",
     chase_by(RED, CANNON, "h1"), False),
]


def play_cycle(fen: str, moves: str, rules: str = "asian") -> list[Outcome | None]:
    board = Board(fen, rules=rules)
    outcomes = []
    for text in moves.split() * 2:
        board.push_uci(text)
        outcomes.append(board.outcome())
    return outcomes


FIELDS = ("name", "fen", "moves", "verdict", "engines_agree")
NAMES = [c[0] for c in CYCLES]


@pytest.mark.parametrize(FIELDS, CYCLES, ids=NAMES)
def test_cycle_verdict(name: str, fen: str, moves: str, verdict: Outcome, engines_agree: bool) -> None:
    outcomes = play_cycle(fen, moves)
    assert outcomes[:-1] == [None] * 7
    assert outcomes[-1] == verdict


@pytest.mark.parametrize(FIELDS, CYCLES, ids=NAMES)
def test_fairy_stockfish_verdict(name: str, fen: str, moves: str, verdict: Outcome,
                                 engines_agree: bool) -> None:
    """pyffish (Fairy-Stockfish's xiangqi, which has a chasing rule) agrees, except where docs/chase.md
    says why not."""
    pyffish = pytest.importorskip("pyffish")
    ranks_from_one = [m[0] + str(int(m[1]) + 1) + m[2] + str(int(m[3]) + 1) for m in moves.split() * 2]
    over, value = pyffish.is_optional_game_end("xiangqi", fen, ranks_from_one)
    assert over
    to_move = Board(fen).turn  # eight plies later the same side is to move
    theirs = None if value == 0 else (to_move if value > 0 else not to_move)
    assert (theirs == verdict.winner) == engines_agree


def test_check_only_rules_draw_a_perpetual_chase() -> None:
    outcomes = play_cycle("4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1", "a7b7 a5b5 b7a7 b5a5", rules="check-only")
    assert outcomes[-1] == DRAW
    outcomes = play_cycle("R3k4/9/9/9/9/9/9/9/9/3K5 b - - 0 1", "e9e8 a9a8 e8e9 a8a9", rules="check-only")
    assert outcomes[-1] == Outcome(Termination.PERPETUAL_CHECK, BLACK)


def test_rules_are_checked_and_copied() -> None:
    with pytest.raises(ValueError, match="unknown rules"):
        Board(rules="chinese")
    board = Board(rules="check-only")
    assert board.copy().rules == "check-only" and board.mirror().rules == "check-only"
    assert Board().rules == "asian"


def test_describe_names_the_chased_piece() -> None:
    outcome = play_cycle("4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1", "a7b7 a5b5 b7a7 b5a5")[-1]
    assert outcome.describe() == "Red loses by perpetually chasing the black cannon on a7"
    assert outcome.result() == "0-1"
    assert Outcome(Termination.PERPETUAL_CHECK, RED).describe() == "Black loses by perpetual check"
    assert DRAW.describe() == "Draw by repetition"


def test_the_cycle_is_judged_only_when_a_position_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    import xiangqi.core

    def fail(*args: object) -> None:
        raise AssertionError("judge_cycle called without a repetition")

    monkeypatch.setattr(xiangqi.core, "judge_cycle", fail)
    board = Board("4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1")
    for text in "a7b7 a5b5 b7a7 b5a5 a7b7 a5b5 b7a7".split():
        board.push_uci(text)
        assert board.outcome() is None
    board.push_uci("b5a5")
    with pytest.raises(AssertionError, match="without a repetition"):
        board.outcome()


def squares_chased(fen: str, move: str) -> set[str]:
    board = Board(fen)
    before = board.fen()
    result = chased(board, Move.from_uci(move))
    assert board.fen() == before and not board.move_stack
    return {square_name(s) for s in result}


def test_horse_attacking_a_horse_that_can_take_back_is_no_chase() -> None:
    assert squares_chased("3k5/9/4n4/9/9/9/2N6/9/9/4K4 w - - 0 1", "c3d5") == set()


def test_horse_attacking_a_horse_with_a_blocked_leg_chases_it() -> None:
    assert squares_chased("3k5/9/4n4/4P4/9/9/2N6/9/9/4K4 w - - 0 1", "c3d5") == {"e7"}


def test_elephant_attacking_a_protected_horse_chases_it() -> None:
    assert squares_chased("3k2r2/9/9/9/9/6n2/9/9/9/4K1B2 w - - 0 1", "g0e2") == {"g4"}
    # A chariot attacking the same protected horse does not.
    assert squares_chased("3k2r2/9/9/9/9/9/9/6n2/9/R3K4 w - - 0 1", "a0a2") == set()


def test_taking_away_protection_is_a_chase() -> None:
    # The soldier blocks the elephant's eye: the chariot's attack on the horse becomes a chase.
    assert squares_chased("3k5/9/4b4/4P4/2n6/9/9/9/9/2R1K4 w - - 0 1", "e6d6") == {"c5"}


def test_discovered_attack_is_a_chase() -> None:
    assert squares_chased("3k5/9/2c6/9/9/9/2N6/9/9/2R1K4 w - - 0 1", "c3e4") == {"c7"}


def test_soldier_on_its_own_side_cannot_be_chased() -> None:
    assert squares_chased("3k5/9/9/p8/9/9/1R7/9/9/4K4 w - - 0 1", "b3a3") == set()


def test_a_check_can_chase_too() -> None:
    assert squares_chased("r3k4/9/9/1N7/9/9/9/9/9/3K5 w - - 0 1", "b6c8") == {"a9"}


def test_master_level_avoids_losing_by_perpetual_chase() -> None:
    from play.levels import safe_move

    # Red is behind (a black chariot on i9), so a plain repetition would suit it: only the rule
    # keeps it from chasing the cannon a third time.
    fen = "4k3r/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1"
    moves = "a7b7 a5b5 b7a7 b5a5 a7b7 a5b5 b7a7".split()
    candidates = [(Move.from_uci("b5a5"), 0.9), (Move.from_uci("b5b4"), 0.1)]
    chosen = {}
    for rules in ("check-only", "asian"):
        board = Board(fen, rules=rules)
        for text in moves:
            board.push_uci(text)
        chosen[rules] = safe_move(board, candidates).uci()
    assert chosen == {"check-only": "b5a5", "asian": "b5b4"}


def test_pgn_names_the_chased_piece_once() -> None:
    from xiangqi.pgn import Game, read_games, write_game

    fen = "4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1"
    moves = [Move.from_uci(m) for m in "a7b7 a5b5 b7a7 b5a5".split() * 2]
    for notation in ("iccs", "chinese"):
        text = write_game(Game(fen=fen, moves=moves, result="0-1"), notation)
        assert text.rstrip().endswith("{Red loses by perpetually chasing the black cannon on a7} 0-1")
        (back,) = read_games(text)
        assert write_game(back, notation) == text
    assert "{" not in write_game(Game(fen=fen, moves=moves, result="1/2-1/2"), "iccs")


def test_server_names_the_perpetual_chase(shipped_policy, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    pgn = ('[FEN "4k4/9/c8/9/R8/9/9/9/9/3K5 b - - 0 1"]\n[Format "ICCS"]\n\n'
           "1... a7b7 2. a5b5 b7a7 3. b5a5 a7b7 4. a5b5 b7a7 5. b5a5 0-1\n")
    with TestClient(create_app(shipped_policy, f"sqlite:///{tmp_path / 'g.db'}")) as client:
        r = client.post("/api/games/import", json={"pgn": pgn})
        assert r.status_code == 201, r.text
        game = r.json()
        assert (game["termination"], game["result"], game["winner"]) == ("perpetual_chase", "0-1", "black")
        assert game["ending"] == "Red loses by perpetually chasing the black cannon on a7"
        text = client.get(f"/api/games/{game['id']}/pgn").text
        assert "{Red loses by perpetually chasing the black cannon on a7} 0-1" in text
