// Xiangqi-GPT web page: wires the board (board.js) to the HTTP API (api.js) and the side panel.
// A game is saved on the server from the first move or "New game"; a page load saves nothing.

import { followGame } from "./analysis.js";
import * as api from "./api.js";
import { Board } from "./board.js";
import { placementAfter } from "./draw.js";
import { followExplorer } from "./explorer.js";
import * as i18n from "./i18n.js";
import { t } from "./i18n.js";
import { acceptDrops, base64Of, MAX_FILE_BYTES } from "./importer.js";
import * as links from "./links.js";
import * as sound from "./sound.js";

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
const RESIGN_CONFIRM_MS = 4000;  // a second click on Resign within this time resigns

const $ = (id) => document.getElementById(id);

const state = {
  game: null,        // GameState from the server; id is null for the start position not yet saved
  candidates: [],    // the model's candidates for its last move
  notation: "chinese",
  busy: false,
  note: null,        // () => what the model just played, shown after the status in the page's language
  bannerClosed: false,
  levels: [],        // [{name, description, thinking_ms}] from the server
  viewPly: null,     // a position picked in the move list (plies from the start), null for the game's own
  resignArmed: null, // the timer of a first click on Resign, waiting for the second
  library: null,     // {file, games, index}: a record file of several games (a CBL library) and the one shown
  savedGames: [],    // the saved games' summaries the server listed last
};

const board = new Board($("board"), (from, to) => playMove(from + to));
board.set({ describe: i18n.describeSquare });

// ---------------------------------------------------------------- board

function canPlay() {
  const g = state.game;
  return g && !state.busy && g.status === "playing" && g.turn === g.human_side && g.yours !== false;
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

/** The ply shown on the board: the one picked in the move list, else the game's last. */
function shownPly() {
  return state.viewPly === null ? state.game.moves.length : state.viewPly;
}

/** The game as far as the shown ply (the game itself when its last position is shown). */
function shownGame() {
  const g = state.game;
  if (!g || state.viewPly === null) return g;
  return { ...g, moves: g.moves.slice(0, state.viewPly), status: "playing", termination: null, result: "*" };
}

function renderBoard() {
  const g = state.game;
  if (!g) return;
  const ply = shownPly();
  const live = ply === g.moves.length;
  const last = ply ? g.moves[ply - 1].iccs : null;
  board.set({
    fen: live ? g.fen : placementAfter(g.start_fen, g.moves.slice(0, ply).map((m) => m.iccs)),
    lastMove: last && [last.slice(0, 2), last.slice(2)],
    check: live && g.in_check ? g.turn : null,
    arrows: live ? arrows() : [],
    movable: live && canPlay() ? { color: g.human_side, dests: destinations(g.legal_moves) } : NOT_MOVABLE,
  });
}

/** Show the position after `ply` plies, picked in the move list or stepped to with ← →; the last
 * is the game's own. */
function showPly(ply) {
  const g = state.game;
  if (!g || state.busy) return;
  const shown = Math.max(0, ply);
  state.viewPly = shown >= g.moves.length ? null : shown;
  render();
}

// ---------------------------------------------------------------- side panel

/** The number of move `i` (from 0) of game `g`, as the move list numbers it. */
function moveNumber(g, i) {
  const startsBlack = g.start_fen.split(" ")[1] === "b";
  return Number(g.start_fen.split(" ")[5] || 1) + Math.floor((i + (startsBlack ? 1 : 0)) / 2);
}

/** Move `i` of game `g` with its number: "12. 炮二平五", "12… 马８进７". */
function numbered(g, i) {
  const m = g.moves[i];
  return `${moveNumber(g, i)}${m.side === "red" ? "." : "…"} ${written(m, state.notation)}`;
}

function renderMoves() {
  const list = $("moves");
  list.replaceChildren();
  const g = state.game;
  if (!g) return;
  const scrolled = list.scrollTop;
  const shown = shownPly();
  let li = null;
  g.moves.forEach((m, i) => {
    if (m.side === "red" || li === null) {
      li = document.createElement("li");
      li.value = moveNumber(g, i);
      list.appendChild(li);
      if (m.side === "black") li.appendChild(moveSpan("…", false));
    }
    const span = moveSpan(written(m, state.notation), i === shown - 1, m);
    span.dataset.ply = i + 1;
    span.addEventListener("click", () => showPly(i + 1));
    li.appendChild(span);
  });
  // Scroll the list's own box (scrollIntoView would scroll the page too: on a phone the list is
  // below the board, which it would push off the top): to the end for the game's last move.
  list.scrollTop = state.viewPly === null ? list.scrollHeight : scrolled;
}

/** A move (a MoveRecord or a candidate) in `notation`; Chinese in the page's script. */
function written(move, notation) {
  if (notation === "iccs") return move.iccs || move.move;
  return notation === "chinese" ? i18n.chineseScript(move.chinese) : move.wxf;
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
  title.textContent = `${t("Model weighed:")} `;
  box.appendChild(title);
  for (const c of state.candidates) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.textContent = `${written(c, state.notation)} ${Math.round(c.p * 100)}%`;
    chip.title = `${c.chinese} · ${c.wxf} · ${c.move}`;
    box.appendChild(chip);
  }
}

function sideName(side) {
  return t(side === "red" ? "Red" : "Black");
}

function renderStatus() {
  const g = state.game;
  const saved = Boolean(g && g.id !== null);
  const watched = saved && g.yours === false;  // someone else's game, from a shared link
  let text = "";
  if (!g) text = t("Start a new game.");
  else if (watched && state.viewPly === null && !state.busy) {
    text = t("A shared game (watching only): continue from here to play on.");
  } else if (state.viewPly !== null && !state.busy) {
    text = state.viewPly === 0 ? t("The start position: click the last move to return to the game.")
      : t("After {move}: click the last move to return to the game.", { move: numbered(g, state.viewPly - 1) });
  } else if (g.status === "finished") text = `${t(ENDINGS[g.termination] || "Game over")} · ${g.result}`;
  else if (state.busy) text = t("The model is thinking…");
  else if (g.turn === g.human_side) {
    text = t("Your move ({side})", { side: sideName(g.human_side) }) + (g.in_check ? ` · ${t("Check!")}` : "");
  } else text = t("Waiting for the model…");
  $("status").textContent = state.note && !state.busy && state.viewPly === null ? `${text} — ${state.note()}` : text;
  $("undo").disabled = !saved || watched || state.busy || ["resignation", "recorded_result"].includes(g.termination);
  $("resign").disabled = !saved || watched || state.busy || g.status !== "playing";
  $("continue").hidden = !watched;
  $("continue").disabled = state.busy;
  $("resign").textContent = t(state.resignArmed ? "Resign? Click again" : "Resign");
  $("resign").classList.toggle("armed", Boolean(state.resignArmed));
  $("export").disabled = !saved;
  $("copy-game-link").disabled = !saved;
  $("copy-position-link").disabled = !g;
}

function renderBanner() {
  const g = state.game;
  const banner = $("banner");
  if (!g || g.status !== "finished" || state.bannerClosed || state.viewPly !== null) {
    banner.hidden = true;  // (a position picked in the move list is shown without it)
    return;
  }
  const parts = [];
  const mine = g.winner && !isRecord(g) && t(g.winner === g.human_side ? "You win" : "The model wins");
  if (g.ending && g.termination !== "checkmate") {
    // the rule's own words say more than the title (who chased what, who had no move) and who won
    parts.push(t("{ending} ({result})", { ending: i18n.ending(g.ending), result: g.result }));
    if (mine) parts.push(mine);
  } else if (!g.winner) parts.push(t("Draw ({result})", { result: g.result }));
  else if (mine) parts.push(t("{ending} ({result})", { ending: mine, result: g.result }));
  else parts.push(t("{side} wins ({result})", { side: sideName(g.winner), result: g.result }));
  if (isRecord(g)) parts.push(...recordLabel(g.headers));
  $("banner-title").textContent = t(ENDINGS[g.termination] || "Game over");
  $("banner-detail").textContent = parts.join(" · ");
  banner.dataset.termination = g.termination;
  banner.hidden = false;
}

/** An imported record (its players or event known), not a game played here against the model. */
function isRecord(game) {
  return Boolean(game.headers && (game.headers.Red || game.headers.Black || game.headers.Event));
}

/** A record's players, event and date (those it has). */
function recordLabel(headers) {
  const players = [headers.Red, headers.Black].filter(Boolean).join(" – ");
  return [players || headers.Title, headers.Event, headers.Date].filter(Boolean);
}

function markCurrentGame() {
  const id = state.game ? state.game.id : null;
  for (const li of $("games").children) li.classList.toggle("current", li.dataset.id === id);
}

function render() {
  renderBoard();
  renderMoves();
  renderCandidates();
  renderStatus();
  renderBanner();
  markCurrentGame();
  showAddress();
  followGame(shownGame(), board);
  followExplorer(shownGame(), state.viewPly === null && canPlay() ? playMove : null);
}

/** The shown game's address (#game=ID) in the address bar. */
function showAddress() {
  const id = state.game ? state.game.id : null;
  const hash = id === null ? "" : `#game=${id}`;
  const search = id === null ? location.search : "";  // a ?fen= link is saved as a game by its first move
  if (location.hash !== hash || location.search !== search) {
    history.replaceState(null, "", location.pathname + search + hash);
  }
}

/** The evaluation bar's red share on Red's side of the board (at the top once flipped). */
function orientBar() {
  const bar = $("eval-bar");
  bar.classList.toggle("flipped", board.flipped);
  // the English label is kept where translatePage (i18n.js) looks for it
  bar.dataset.enAriaLabel = `Evaluation bar: Red's share at the ${board.flipped ? "top" : "bottom"}`;
  bar.setAttribute("aria-label", t(bar.dataset.enAriaLabel));
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// ---------------------------------------------------------------- games

function setGame(game, candidates = []) {
  const before = state.game;
  const changedGame = !before || before.id !== game.id;
  if (before && !changedGame && game.moves.length > before.moves.length) sound.play(sound.soundFor(before.fen, game));
  state.game = game;
  state.candidates = candidates;
  state.note = null;
  state.bannerClosed = false;
  state.viewPly = null;
  clearTimeout(state.resignArmed);  // a Resign click waiting for its second is for the game it was on
  state.resignArmed = null;
  if (changedGame) {
    board.set({ orientation: game.human_side === "black" && game.status === "playing" ? "black" : "red" });
    orientBar();
  }
  if (game.id !== null && state.levels.some((l) => l.name === game.level)) {
    $("level").value = game.level;  // the level the game goes on at
    renderLevels();
  }
  render();
}

/** The start position, or the position `fen` (a ?fen= link), not saved until the first move: the
 * human plays the side to move. */
async function showStart(fen = null) {
  const p = fen ? await api.position(fen) : await api.startPosition();
  setGame({
    id: null, human_side: p.turn, start_fen: p.fen, fen: p.fen, turn: p.turn, in_check: p.in_check, moves: [],
    legal_moves: p.moves, status: p.status, result: p.result, termination: p.termination, winner: p.winner,
    headers: {},
  });
}

// An action's last step shows its game (setGame), so that the page never shows a finished
// action (a game over banner, say) while it is still busy and would ignore the next click.
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
    await loadGames();
    setGame(game, game.reply ? game.reply.candidates : []);
  });
}

// The board shows the move at once; the server's answer (with the model's reply) replaces it.
function playMove(move) {
  return run(async () => {
    if (state.game.id === null) {
      state.game = await api.newGame(state.game.human_side, $("level").value, state.game.start_fen);
    }
    const res = await api.playMove(state.game.id, move);
    await loadGames();
    setGame(res.game, res.reply ? res.reply.candidates : []);
    const reply = res.reply;
    state.note = reply && (() => t("the model played {move}",
      { move: `${i18n.chineseScript(reply.chinese)} (${reply.wxf})` }));
  });
}

function openGame(id) {
  return run(async () => setGame(await api.getGame(id)));
}

/** List the saved games, newest first, and return them. */
async function loadGames() {
  const data = await api.listGames(30);
  state.savedGames = data.games;
  renderGames();
  return data.games;
}

/** The saved games' list in the page's language (from the last list the server sent). */
function renderGames() {
  const list = $("games");
  list.replaceChildren();
  for (const g of state.savedGames) {
    const li = document.createElement("li");
    li.dataset.id = g.id;
    const label = document.createElement("span");
    label.textContent = gameLabel(g);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = t(g.status === "playing" ? "Resume" : "View");
    button.setAttribute("aria-label", t("{action} game {id}", { action: button.textContent, id: g.id }));
    button.addEventListener("click", () => openGame(g.id));
    li.append(label, button);
    list.appendChild(li);
  }
  if (!state.savedGames.length) list.textContent = t("No saved games yet.");
  markCurrentGame();
}

/** A saved game in the list: a record's players, event and date; else "Game 3 · you Red · master". */
function gameLabel(g) {
  const outcome = g.status === "playing" ? t("in play") : `${g.result} ${t(ENDINGS[g.termination] || "Game over")}`;
  const moves = i18n.tn(Math.ceil(g.plies / 2), "{n} move", "{n} moves");
  if (isRecord(g)) return [...recordLabel(g.headers), moves, outcome].join(" · ");
  const title = g.title === `Game ${g.id}` ? t("Game {id}", { id: g.id }) : g.title;
  return t("{title} · you {side} · {level} · {moves} · {outcome}",
    { title, side: sideName(g.human_side), level: t(g.level), moves, outcome });
}

async function loadLevels() {
  const data = await api.levels();
  const select = $("level");
  // weakest first by the measured rating (the unrated last), so that the order reads as strength
  data.levels.sort((a, b) => (a.rating ?? Infinity) - (b.rating ?? Infinity));
  for (const level of data.levels) {
    select.appendChild(new Option(level.name, level.name, level.name === data.default, level.name === data.default));
  }
  state.levels = data.levels;
  select.addEventListener("change", renderLevels);
  renderLevels();
}

/** The level picker's labels and the chosen level's description, in the page's language. */
function renderLevels() {
  const select = $("level");
  const seconds = (level) => level.thinking_ms / 1000;
  // The description says how long a searching level thinks; the option's label shows it too.
  const about = (level) => [t(level.description),
    level.rating ? t("rated {elo} ({low}–{high}) against Fairy-Stockfish",
      { elo: level.rating, low: level.rating_95[0], high: level.rating_95[1] }) : ""].filter(Boolean);
  for (const option of select.options) {
    const level = state.levels.find((l) => l.name === option.value);
    let name = t(level.name);
    if (level.rating) name = t("{name} · Elo {elo}", { name, elo: level.rating });
    option.textContent = level.thinking_ms ? t("{name} (≤ {s} s)", { name, s: seconds(level) }) : name;
    option.title = i18n.joined(about(level), ";");
  }
  const level = state.levels.find((l) => l.name === select.value);
  $("level-help").textContent = level ? about(level).join(" · ") : "";
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
    showError(t("Paste a game or open a file first."));
    return;
  }
  return run(async () => {
    const game = await api.importPgn(pgn, $("level").value);
    $("pgn-text").value = "";
    await loadGames();
    setGame(game);
  });
}

/** Import a record file of any format the server reads (see importer.js). */
function importFile(file) {
  if (file.size > MAX_FILE_BYTES) {
    showError(t("{name} is too large ({size} kB; at most {max} kB).",
      { name: file.name, size: Math.ceil(file.size / 1000), max: MAX_FILE_BYTES / 1000 }));
    return;
  }
  return run(async () => {
    const data = await base64Of(file);
    const game = await api.importFile(file.name, data, $("level").value);
    state.library = game.library.length ? { file: { name: file.name, data }, games: game.library,
      index: game.library[0].index } : null;
    await loadGames();
    setGame(game);
    renderLibrary();
    state.note = () => t("Imported {name}.", { name: file.name });
  });
}

/** The games of an imported library (a CBL file), to open any of them. */
function renderLibrary() {
  const lib = state.library;
  $("library").hidden = !lib;
  if (!lib) return;
  $("library-note").textContent = i18n.tn(lib.games.length, "{name} holds {n} game:", "{name} holds {n} games:",
    { name: lib.file.name });
  const select = $("library-games");
  select.replaceChildren();
  lib.games.forEach((g, i) => {
    const text = `${i + 1}. ${g.title} · ${g.result} · ${i18n.tn(Math.ceil(g.plies / 2), "{n} move", "{n} moves")}`;
    select.appendChild(new Option(text, g.index, false, g.index === lib.index));
  });
}

function openLibraryGame() {
  const lib = state.library;
  const index = Number($("library-games").value);
  return run(async () => {
    const game = await api.importFile(lib.file.name, lib.file.data, $("level").value, index);
    lib.index = index;
    await loadGames();
    setGame(game);
    renderLibrary();
  });
}

/** Show `url` and put it on the clipboard. */
async function shareLink(url) {
  const copied = await links.copyText(url);
  $("link").value = url;
  $("link").hidden = false;
  $("link-note").textContent = t(copied ? "Link copied." : "Copy the link below.");
  $("link-note").hidden = false;
}

function setNotation(notation) {
  state.notation = notation;
  document.querySelector(`input[name="notation"][value="${notation}"]`).checked = true;
  renderMoves();
  renderCandidates();
}

// ---------------------------------------------------------------- controls

document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
  if (event.key === "u" || event.key === "U") $("undo").click();
  if (event.key === "f" || event.key === "F") $("flip").click();
  // ← → step through the game's positions (not on the board, whose arrows move its cursor, nor
  // behind the analysis view)
  const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
  const elsewhere = event.target.closest("svg, select") || document.querySelector(".analysis-view:not([hidden])");
  if (step && state.game && !elsewhere) {
    event.preventDefault();
    showPly(shownPly() + step);
  }
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
  const game = await api.undo(state.game.id);
  await loadGames();
  setGame(game);
}));
$("resign").addEventListener("click", () => {
  if (!state.resignArmed) {
    state.resignArmed = setTimeout(() => {
      state.resignArmed = null;
      renderStatus();
    }, RESIGN_CONFIRM_MS);
    renderStatus();
    return;
  }
  clearTimeout(state.resignArmed);
  state.resignArmed = null;
  return run(async () => {
    const game = await api.resign(state.game.id);
    await loadGames();
    setGame(game);
  });
});
// A watched game goes on as a new game of this browser's, from its position and with its moves.
$("continue").addEventListener("click", () => run(async () => {
  const g = state.game;
  const game = await api.newGame(g.turn, $("level").value, g.start_fen, g.moves.map((m) => m.iccs));
  await loadGames();
  setGame(game, game.reply ? game.reply.candidates : []);
}));
$("flip").addEventListener("click", () => {
  board.toggleOrientation();
  orientBar();
});
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
$("pgn-file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (file) importFile(file);
});
acceptDrops($("drop-hint"), importFile);
$("library-open").addEventListener("click", () => openLibraryGame());
$("copy-game-link").addEventListener("click", () => shareLink(links.gameLink(state.game.id)));
$("copy-position-link").addEventListener("click", () => shareLink(links.positionLink(state.game.fen)));
for (const name of sound.SOUNDS) {
  const box = $(`sound-${name}`);
  box.checked = sound.isOn(name);
  box.addEventListener("change", () => sound.setOn(name, box.checked));
}
$("language").value = i18n.currentLanguage();
$("language").addEventListener("change", () => i18n.setLanguage($("language").value));
// A Chinese page writes moves in Chinese; WXF or ICCS stay a click away.
i18n.onLanguageChange(() => {
  if (i18n.isChinese()) setNotation("chinese");
  renderLevels();
  renderLibrary();
  orientBar();
  render();
  renderGames();  // at once in the new language, then as the server lists them now
  loadGames().catch((err) => showError(err.message));
});
$("refresh").addEventListener("click", () => loadGames().catch((err) => showError(err.message)));
// A #game= typed or pasted into the address of an open page opens that game.
window.addEventListener("hashchange", () => {
  const id = links.linkedGame();
  if (id !== null && (!state.game || state.game.id !== id)) openGame(id);
});

// ---------------------------------------------------------------- start

// Open the game in the address (#game=ID), else the position in it (?fen=…), else reopen the last
// unfinished game, else show the start position.
async function start() {
  try {
    await loadLevels();
    const games = await loadGames();
    const unfinished = games.find((g) => g.status === "playing");
    const fen = links.linkedFen();
    const wanted = links.linkedGame() || (!fen && unfinished && unfinished.id);
    if (wanted) {
      try {
        setGame(await api.getGame(wanted));
        return;
      } catch {
        // the game is gone: show the start position instead
      }
    }
    if (fen) {
      try {
        await showStart(fen);
        return;
      } catch (err) {
        showError(err.message);  // a bad FEN: say why, and show the start position
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

i18n.translatePage();
start();
