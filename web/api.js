// The HTTP API under /api, one function per call. Errors throw with the server's `detail` message.
//
// This browser is one player: the server gives it a secret with the first game it creates, which
// is kept in localStorage and sent with every request (X-Game-Secret). Only its holder may move,
// undo and resign in its games, and the list shows the games that belong to it; anyone with a
// game's link may watch it (the game's `yours` is false then).

const SECRET_KEY = "xqgpt.secret";
let pageSecret = null;  // the secret when localStorage is blocked: kept for this page only

function playerSecret() {
  try {
    return localStorage.getItem(SECRET_KEY) || pageSecret;
  } catch {
    return pageSecret;
  }
}

function keepSecret(data) {
  if (data && typeof data.secret === "string" && !playerSecret()) {
    pageSecret = data.secret;
    try {
      localStorage.setItem(SECRET_KEY, data.secret);
    } catch {
      // storage blocked: nothing to keep it in
    }
  }
}

async function request(method, path, body) {
  const options = { method, headers: {} };
  const secret = playerSecret();
  if (secret) options.headers["X-Game-Secret"] = secret;
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    throw new Error((isJson && data.detail) || `${response.status} ${response.statusText}`);
  }
  keepSecret(data);
  return data;
}

/** {levels: [{name, description, thinking_ms}], default}; thinking_ms is null for levels that answer at once. */
export const levels = () => request("GET", "/api/levels");

/** The start position with its legal moves: {fen, turn, in_check, moves, status, ...}. */
export const startPosition = () => request("GET", "/api/legal");

/** A position (FEN) with its legal moves, as startPosition gives the start. */
export const position = (fen) => request("GET", `/api/legal?fen=${encodeURIComponent(fen)}`);

/** The most recently updated saved games: {games: [GameSummary], total}. */
export const listGames = (limit) => request("GET", `/api/games?limit=${limit}`);

export const getGame = (id) => request("GET", `/api/games/${id}`);

/** A new saved game, from `fen` (and `moves` played from it) if given; its `reply` is the model's
 * first move when the human's side is not to move. */
export const newGame = (side, level, fen, moves) =>
  request("POST", "/api/games", { side, level, fen: fen || undefined, moves: moves || undefined });

/** Play the human's move (ICCS): {move, reply, game}. */
export const playMove = (id, move) => request("POST", `/api/games/${id}/moves`, { move });

export const undo = (id) => request("POST", `/api/games/${id}/undo`);

export const resign = (id) => request("POST", `/api/games/${id}/resign`);

/** Import pasted record text (PGN, DhtmlXQ, CBF). */
export const importPgn = (pgn, level) => request("POST", "/api/games/import", { pgn, level });

/** Import a record file (any format the server reads) given as base64 `data`: game `game` of a
 * library (an index from the answer's `library`), else its first readable game. */
export const importFile = (name, data, level, game) =>
  request("POST", "/api/games/import", { data, name, level, game });

/** The game's PGN text with moves in `notation` ("chinese", "wxf" or "iccs"). */
export const exportPgn = (id, notation) => request("GET", `/api/games/${id}/pgn?notation=${notation}`);

/** A position's evaluation and best lines (from Red's side): {fen, turn, wdl, score: {cp, mate}, lines, nodes, ...}. */
export const analyse = (body) => request("POST", "/api/analyse", body);
