"""Request and response bodies of the HTTP API (they make the OpenAPI schema at /docs).

Request bodies are strict (no type coercion) and reject unknown fields, so a wrong type or a
misspelt field is a 422 that names the problem instead of being silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from xiangqi import limits

Side = Literal["red", "black"]
Status = Literal["playing", "finished"]
Result = Literal["*", "1-0", "0-1", "1/2-1/2"]
Termination = Literal["checkmate", "stalemate", "perpetual_check", "perpetual_chase", "repetition",
                      "move_limit", "resignation", "recorded_result"]
Notation = Literal["chinese", "wxf", "iccs"]

MAX_FEN = 256
MAX_PLIES = limits.MAX_PLIES  # one bound for the move API and every imported record
MAX_RECORD_BASE64 = 999_000  # an imported file of up to ~749 kB; the whole body is limited to 1 MB


def _integral_float_to_int(value: object) -> object:
    """JSON Schema counts 3.0 as an integer; strict pydantic does not, so convert it first."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(_integral_float_to_int)]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ErrorResponse(BaseModel):
    """Every 4xx answer: a message naming the problem."""

    detail: str


class Health(BaseModel):
    status: Literal["ok"]
    model: str = Field(description="where the model was loaded from")
    database: str = Field(description="database dialect, e.g. sqlite or postgresql")
    threads: int = Field(description="PyTorch threads of the process that answered (with --workers N, "
                         "the cores shared out)")


class Level(BaseModel):
    name: str
    description: str
    thinking_ms: int | None = Field(None, description="the longest the level thinks about a move (searching "
                                    "levels only)")
    rating: int | None = Field(None, description="measured Elo on Fairy-Stockfish's UCI_Elo scale "
                               "(bench/README.md, \"Elo ladder\"); null when not measured")
    rating_95: tuple[int, int] | None = Field(None, description="95% interval of the rating")


class LevelList(BaseModel):
    levels: list[Level]
    default: str


class Candidate(BaseModel):
    """A legal move the model considers, with its probability."""

    move: str = Field(description="ICCS, e.g. h2e2")
    wxf: str = Field(description="WXF, e.g. C2=5")
    chinese: str = Field(description="Chinese, e.g. 炮二平五")
    p: float = Field(ge=0.0, le=1.0)


class MoveRequest(Request):
    """A position (start FEN plus moves) for the model to move in."""

    fen: str | None = Field(None, max_length=MAX_FEN, description="start FEN (default: the start position)")
    moves: list[str] = Field(default_factory=list, max_length=MAX_PLIES,
                             description="ICCS moves played from the FEN")
    temperature: float = Field(0.0, ge=0.0, le=10.0, description="0 plays the most likely move")
    top_k: JsonInt | None = Field(None, ge=1, le=200, description="sample only among the k most likely moves")


class MoveResponse(BaseModel):
    """The model's move, how it is written, its candidates and the position after it."""

    move: str
    wxf: str
    chinese: str
    candidates: list[Candidate]
    fen: str = Field(description="FEN after the move")
    status: Status
    result: Result
    termination: Termination | None
    winner: Side | None


class LegalResponse(BaseModel):
    fen: str
    turn: Side
    in_check: bool
    moves: list[str] = Field(description="legal moves in ICCS")
    status: Status
    result: Result
    termination: Termination | None
    winner: Side | None


class NewGameRequest(Request):
    side: Side = Field("red", description="the human's side; the model moves first when the other side "
                       "is to move")
    fen: str | None = Field(None, max_length=MAX_FEN, description="start FEN (default: the start position)")
    moves: list[str] = Field(default_factory=list, max_length=MAX_PLIES,
                             description="ICCS moves played from the FEN: the game goes on after them (e.g. "
                             "to continue a watched game from its position, with its history)")
    level: str | None = Field(None, max_length=32, description="playing level (see GET /api/levels)")


class PlayRequest(Request):
    move: str = Field(max_length=32, description="the human's move: ICCS h2e2, WXF C2=5 or Chinese 炮二平五")


class ImportRequest(Request):
    """A game record to import: pasted text, or a file's bytes in base64 (give one of the two)."""

    pgn: str | None = Field(None, max_length=1_000_000,
                            description="record text: PGN, DhtmlXQ/UBB or CBF XML (told by the content)")
    data: str | None = Field(None, max_length=MAX_RECORD_BASE64,
                             description="a record file in base64: XQF, CBR, CBL, CBF, DhtmlXQ or PGN")
    name: str | None = Field(None, max_length=255,
                             description="the file's name: for messages, and the format when the content "
                             "does not tell it")
    level: str | None = Field(None, max_length=32, description="level of the model if play goes on")
    game: JsonInt | None = Field(None, ge=0, le=100_000, description="which game of a record that holds "
                                 "several (a CBL library, a PGN file): its index in the answer's "
                                 "library; default the first readable game")

    @model_validator(mode="before")
    @classmethod
    def _one_record(cls, values: object) -> object:
        if isinstance(values, dict) and ("pgn" in values) == ("data" in values):
            raise ValueError("give the record as pgn (text) or as data (a file in base64), one of the two")
        return values


class MoveRecord(BaseModel):
    """One played move in every notation."""

    ply: int = Field(description="0 for the first move of the game")
    side: Side
    iccs: str
    wxf: str
    chinese: str


class ModelReply(BaseModel):
    """The model's move and the candidates it chose from."""

    move: str
    wxf: str
    chinese: str
    candidates: list[Candidate]


class GameSummary(BaseModel):
    id: str = Field(description="the game's public id")
    created_at: datetime
    updated_at: datetime
    human_side: Side
    level: str
    plies: int
    status: Status
    result: Result
    termination: Termination | None
    title: str = Field(description="a short name for lists, e.g. the Event header of an imported game")
    headers: dict[str, str] = Field(default_factory=dict, description="an imported game's own headers "
                                    "(players, event, date); empty for a game played here")


class GameList(BaseModel):
    games: list[GameSummary]
    total: int


class GameState(BaseModel):
    """A saved game: how it started, its moves, and the current position."""

    id: str = Field(description="the game's public id: /#game=ID shows it to anyone who has the link")
    yours: bool = Field(False, description="whether the request carried the game's player secret "
                        "(X-Game-Secret): only then may it move, undo and resign")
    created_at: datetime
    updated_at: datetime
    human_side: Side
    level: str
    start_fen: str
    fen: str
    turn: Side
    in_check: bool
    moves: list[MoveRecord]
    legal_moves: list[str] = Field(description="legal moves in ICCS (empty once the game is over)")
    status: Status
    result: Result
    termination: Termination | None
    winner: Side | None
    headers: dict[str, str]
    ending: str | None = Field(default=None, description="how a game ended by the rules, in words, e.g. "
                               "'Black loses by perpetually chasing the red chariot on e5'")


class LibraryGame(BaseModel):
    """One readable game of a record that holds several."""

    index: int = Field(description="the game's index in the record (ImportRequest.game)")
    title: str = Field(description="its Title header, else its players")
    plies: int
    result: Result


class CreatedGame(GameState):
    """A game just created, with the secret of its player: send it as the X-Game-Secret header to
    move, undo and resign, and to list your games. It is given only here."""

    secret: str = Field(description="the player's secret (the X-Game-Secret the request carried, or a "
                        "new one)")


class ImportResponse(CreatedGame):
    library: list[LibraryGame] = Field(default_factory=list, description="every readable game of the "
                                       "record when it holds more than one (a CBL library), else empty")


class NewGameResponse(CreatedGame):
    reply: ModelReply | None = Field(description="the model's first move when the human plays black")


class PlayResponse(BaseModel):
    move: MoveRecord = Field(description="the human's move")
    reply: ModelReply | None = Field(description="the model's answer (null if the game is over)")
    game: GameState


MAX_ANALYSE_NODES = 400
MAX_MULTIPV = 5


class AnalyseRequest(Request):
    """A position (start FEN plus moves) to analyse; the work is bounded by ``nodes``."""

    fen: str | None = Field(None, max_length=MAX_FEN, description="start FEN (default: the start position)")
    moves: list[str] = Field(default_factory=list, max_length=MAX_PLIES,
                             description="ICCS moves played from the FEN")
    nodes: JsonInt = Field(100, ge=1, le=MAX_ANALYSE_NODES, description="search playouts")
    multipv: JsonInt = Field(1, ge=1, le=MAX_MULTIPV, description="best lines to report")


class Score(BaseModel):
    """An evaluation from Red's side: centipawns, or moves to mate (positive: Red mates); both
    null once the game is over."""

    cp: int | None
    mate: int | None


class AnalysisLine(BaseModel):
    """A move of the position, its evaluation and the line it leads to."""

    move: str = Field(description="ICCS")
    wxf: str
    chinese: str
    score: Score
    wdl: list[float] = Field(min_length=3, max_length=3, description="Red's win, draw and loss probabilities")
    pv: list[str] = Field(description="the principal variation in ICCS, starting with the move")
    pv_wxf: list[str]
    pv_chinese: list[str]


class AnalyseResponse(BaseModel):
    """A position's evaluation (from Red's side) and its best lines (none once the game is over)."""

    fen: str
    turn: Side
    wdl: list[float] = Field(min_length=3, max_length=3, description="Red's win, draw and loss probabilities")
    score: Score
    lines: list[AnalysisLine]
    nodes: int = Field(description="playouts searched")
    status: Status
    result: Result
    termination: Termination | None
