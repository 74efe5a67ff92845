// Xiangqi-GPT web page: wires the board (board.js) to the HTTP API (api.js) and the side panel.
// A game is saved on the server from the first move or "New game"; a page load saves nothing.

import * as api from "./api.js";
import { Board } from "./board.js";

const ENDINGS = {
  checkmate: "Checkmate",
  stalemate: "Stalemate (no legal move)",
  perpetual_check: "Perpetual check",
  perpetual_chase: "Perpetual chase",
  repetition: "Draw by repetition",
  move_limit: "Draw by the move limit",
  resignation: "Resignation",
  recorded_result: "Game over",
};
const NOT_MOVABLE = { color: null, dests: new Map() };

const $ = (id) => document.getElementById(id);

const state = {
  game: null,        // GameState from the server; id is null for the start position not yet saved
  candidates: [],    // the model's candidates for its last move
  notation: "chinese",
  busy: false,
  note: "",          // what the model just played, shown after the status
  bannerClosed: false,
};

const board = new Board($("board"), (from, to) => playMove(from + to));

// ---------------------------------------------------------------- board

function canPlay() {
  const g = state.game;
  return g && !state.busy && g.status === "playing" && g.turn === g.human_side;
}

/** The legal moves (ICCS) grouped by the square they start from. */
function destinations(moves) {
  const dests = new Map();
  for (const m of moves) {
    const from = m.slice(0, 2);
    if (!dests.has(from)) dests.set(from, []);
    dests.get(from).push(m.slice(2));
  }
  return dests;
}

function arrows() {
  if (!$("show-candidates").checked) return [];
  return state.candidates.map((c) => ({ from: c.move.slice(0, 2), to: c.move.slice(2), p: c.p }));
}

function renderBoard() {
  const g = state.game;
  if (!g) return;
  const last = g.moves.length ? g.moves[g.moves.length - 1].iccs : null;
  board.set({
    fen: g.fen,
    lastMove: last && [last.slice(0, 2), last.slice(2)],
    check: g.in_check ? g.turn : null,
    arrows: arrows(),
    movable: canPlay() ? { color: g.human_side, dests: destinations(g.legal_moves) } : NOT_MOVABLE,
  });
}

// ---------------------------------------------------------------- side panel

function renderMoves() {
  const list = $("moves");
  list.replaceChildren();
  const g = state.game;
  if (!g) return;
  const startsBlack = g.start_fen.split(" ")[1] === "b";
  const fullmove = Number(g.start_fen.split(" ")[5] || 1);
  let li = null;
  g.moves.forEach((m, i) => {
    if (m.side === "red" || li === null) {
      li = document.createElement("li");
      li.value = fullmove + Math.floor((i + (startsBlack ? 1 : 0)) / 2);
      list.appendChild(li);
      if (m.side === "black") li.appendChild(moveSpan("…", false));
    }
    li.appendChild(moveSpan(m[state.notation], i === g.moves.length - 1, m));
  });
  if (li) li.scrollIntoView({ block: "nearest" });
}

function moveSpan(text, last, move = null) {
  const span = document.createElement("span");
  span.className = "mv" + (last ? " last" : "") + (move ? ` ${move.side}` : "");
  span.textContent = text;
  if (move) span.title = `${move.chinese} · ${move.wxf} · ${move.iccs}`;
  return span;
}

function renderCandidates() {
  const box = $("candidates");
  box.replaceChildren();
  if (!$("show-candidates").checked || !state.candidates.length) return;
  const title = document.createElement("span");
  title.className = "hint";
  title.textContent = "Model weighed: ";
  box.appendChild(title);
  for (const c of state.candidates) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.textContent = `${state.notation === "iccs" ? c.move : c[state.notation]} ${Math.round(c.p * 100)}%`;
    chip.title = `${c.chinese} · ${c.wxf} · ${c.move}`;
    box.appendChild(chip);
  }
}

function sideName(side) {
  return side === "red" ? "Red" : "Black";
}

function renderStatus() {
  const g = state.game;
  const saved = Boolean(g && g.id !== null);
  let text = "";
  if (!g) text = "Start a new game.";
  else if (g.status === "finished") text = `${ENDINGS[g.termination] || "Game over"} · ${g.result}`;
  else if (state.busy) text = "The model is thinking…";
  else if (g.turn === g.human_side) text = `Your move (${sideName(g.human_side)})${g.in_check ? " · Check!" : ""}`;
  else text = "Waiting for the model…";
  $("status").textContent = state.note ? `${text} — ${state.note}` : text;
  $("undo").disabled = !saved || state.busy || g.termination === "resignation";
  $("resign").disabled = !saved || state.busy || g.status !== "playing";
  $("export").disabled = !saved;
}

function renderBanner() {
  const g = state.game;
  const banner = $("banner");
  if (!g || g.status !== "finished" || state.bannerClosed) {
    banner.hidden = true;
    return;
  }
  const ending = ENDINGS[g.termination] || "Game over";
  let detail;
  if (g.winner) {
    detail = `${sideName(g.winner)} wins (${g.result})`;
    if (g.termination === "resignation") detail = `${sideName(g.winner === "red" ? "black" : "red")} resigned · ${detail}`;
    if (!g.headers.Event) detail += g.winner === g.human_side ? " — you win!" : " — the model wins.";
  } else {
    detail = `Draw (${g.result})`;
  }
  if (g.ending) detail = `${g.ending} · ${detail}`;  // e.g. who chased what
  $("banner-title").textContent = ending;
  $("banner-detail").textContent = detail;
  banner.dataset.termination = g.termination;
  banner.hidden = false;
}

function markCurrentGame() {
  const id = state.game ? state.game.id : null;
  for (const li of $("games").children) li.classList.toggle("current", Number(li.dataset.id) === id);
}

function render() {
  renderBoard();
  renderMoves();
  renderCandidates();
  renderStatus();
  renderBanner();
  markCurrentGame();
  const id = state.game ? state.game.id : null;
  const hash = id === null ? "" : `#game=${id}`;
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + location.search + hash);
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// ---------------------------------------------------------------- games

function setGame(game, candidates = []) {
  const changedGame = !state.game || state.game.id !== game.id;
  state.game = game;
  state.candidates = candidates;
  state.note = "";
  state.bannerClosed = false;
  if (changedGame) board.set({ orientation: game.human_side === "black" && game.status === "playing" ? "black" : "red" });
  render();
}

/** The start position, not saved until the first move: the human plays Red. */
async function showStart() {
  const p = await api.startPosition();
  setGame({
    id: null, human_side: "red", start_fen: p.fen, fen: p.fen, turn: p.turn, in_check: p.in_check, moves: [],
    legal_moves: p.moves, status: p.status, result: p.result, termination: p.termination, winner: p.winner,
    headers: {},
  });
}

async function run(action) {
  if (state.busy) return;
  state.busy = true;
  showError("");
  board.set({ movable: NOT_MOVABLE });
  renderStatus();
  try {
    await action();
  } catch (err) {
    showError(err.message);
  } finally {
    state.busy = false;
    render();
  }
}

function newGame() {
  return run(async () => {
    const game = await api.newGame($("side").value, $("level").value);
    setGame(game, game.reply ? game.reply.candidates : []);
    await loadGames();
  });
}

// The board shows the move at once; the server's answer (with the model's reply) replaces it.
function playMove(move) {
  return run(async () => {
    if (state.game.id === null) state.game = await api.newGame(state.game.human_side, $("level").value);
    const res = await api.playMove(state.game.id, move);
    setGame(res.game, res.reply ? res.reply.candidates : []);
    state.note = res.reply ? `the model played ${res.reply.chinese} (${res.reply.wxf})` : "";
    await loadGames();
  });
}

function openGame(id) {
  return run(async () => setGame(await api.getGame(id)));
}

/** List the saved games, newest first, and return them. */
async function loadGames() {
  const data = await api.listGames(30);
  const list = $("games");
  list.replaceChildren();
  for (const g of data.games) {
    const li = document.createElement("li");
    li.dataset.id = g.id;
    const label = document.createElement("span");
    const outcome = g.status === "playing" ? "in play" : `${g.result} ${g.termination.replace("_", " ")}`;
    label.textContent = `${g.title} · you ${g.human_side} · ${g.level} · ${g.plies} plies · ${outcome}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = g.status === "playing" ? "Resume" : "View";
    button.setAttribute("aria-label", `${button.textContent} game ${g.id}`);
    button.addEventListener("click", () => openGame(g.id));
    li.append(label, button);
    list.appendChild(li);
  }
  if (!data.games.length) list.textContent = "No saved games yet.";
  markCurrentGame();
  return data.games;
}

async function loadLevels() {
  const data = await api.levels();
  const select = $("level");
  const thinking = (level) => (level.thinking_ms ? `thinks up to ${level.thinking_ms / 1000} s a move` : "");
  for (const level of data.levels) {
    const label = level.thinking_ms ? `${level.name} (≤ ${level.thinking_ms / 1000} s)` : level.name;
    const option = new Option(label, level.name, level.name === data.default, level.name === data.default);
    option.title = [level.description, thinking(level)].filter(Boolean).join("; ");
    select.appendChild(option);
  }
  const help = () => {
    const level = data.levels.find((l) => l.name === select.value);
    $("level-help").textContent = level ? [level.description, thinking(level)].filter(Boolean).join(" · ") : "";
  };
  select.addEventListener("change", help);
  help();
}

async function exportPgn() {
  const id = state.game.id;
  const text = await api.exportPgn(id, state.notation);
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `xqgpt-game-${id}.pgn`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

function importPgn() {
  const pgn = $("pgn-text").value;
  if (!pgn.trim()) {
    showError("Paste a PGN game or open a file first.");
    return;
  }
  return run(async () => {
    setGame(await api.importPgn(pgn, $("level").value));
    $("pgn-text").value = "";
    await loadGames();
  });
}

// ---------------------------------------------------------------- controls

document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
  if (event.key === "u" || event.key === "U") $("undo").click();
  if (event.key === "f" || event.key === "F") $("flip").click();
});

$("new-game").addEventListener("submit", (event) => {
  event.preventDefault();
  newGame();
});
$("banner-new").addEventListener("click", () => newGame());
$("banner-close").addEventListener("click", () => {
  state.bannerClosed = true;
  renderBanner();
});
$("undo").addEventListener("click", () => run(async () => {
  setGame(await api.undo(state.game.id));
  await loadGames();
}));
$("resign").addEventListener("click", () => run(async () => {
  setGame(await api.resign(state.game.id));
  await loadGames();
}));
$("flip").addEventListener("click", () => board.toggleOrientation());
$("show-candidates").addEventListener("change", () => {
  board.set({ arrows: arrows() });
  renderCandidates();
});
for (const radio of document.querySelectorAll('input[name="notation"]')) {
  radio.addEventListener("change", () => {
    state.notation = radio.value;
    renderMoves();
    renderCandidates();
  });
}
$("export").addEventListener("click", () => exportPgn().catch((err) => showError(err.message)));
$("import").addEventListener("click", () => importPgn());
$("pgn-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) $("pgn-text").value = await file.text();
});
$("refresh").addEventListener("click", () => loadGames().catch((err) => showError(err.message)));

// ---------------------------------------------------------------- start

// Reopen the game in the address (#game=ID), else the last unfinished one, else show the start position.
async function start() {
  try {
    await loadLevels();
    const games = await loadGames();
    const unfinished = games.find((g) => g.status === "playing");
    const wanted = (location.hash.match(/game=(\d+)/) || [])[1] || (unfinished && unfinished.id);
    if (wanted) {
      try {
        setGame(await api.getGame(wanted));
        return;
      } catch {
        // the game is gone: show the start position instead
      }
    }
    await showStart();
  } catch (err) {
    showError(err.message);
  } finally {
    render();
    document.body.dataset.ready = "1";
  }
}

start();
