// Puzzles mode: a verified winning line from a position (GET /api/puzzles/next). The player makes
// the solver's moves on its own board; a right move is answered with the defender's reply from the
// line, a move off the line ends the attempt: solved when it mates at once, else marked wrong and
// answered on the board by the defender's reply from the server's search. The solution can be shown. Each attempt is sent
// to POST /api/puzzles/{id}/attempt, which moves the player's and the puzzle's Glicko-2 ratings.
// The player is the browser's secret (localStorage "xqgpt.secret", as api.js keeps it).

import { Board } from "./board.js";
import { placementAfter } from "./draw.js";
import { addStrings, describeSquare, onLanguageChange, t } from "./i18n.js";

addStrings({
  "Puzzles": ["杀局练习", "殺局練習"],
  "Solve puzzles": ["做题", "做題"],
  "Mates in a few moves from composed problems, each checked by Fairy-Stockfish: your rating moves with every puzzle.": [
    "排局中的几步杀，每题都经 Fairy-Stockfish 验证：每做一题，你的等级分随之变动。",
    "排局中的幾步殺，每題都經 Fairy-Stockfish 驗證：每做一題，你的等級分隨之變動。"],
  "Puzzle board": ["练习棋盘", "練習棋盤"],
  "Close the puzzles": ["关闭练习", "關閉練習"],
  "Show the solution": ["显示答案", "顯示答案"],
  "Next puzzle": ["下一题", "下一題"],
  "Your rating: {rating}": ["你的等级分：{rating}", "你的等級分：{rating}"],
  "Puzzle rating: {rating}": ["题目等级分：{rating}", "題目等級分：{rating}"],
  "{side} to move and mate in {n}.": ["{side}先走，{n} 步杀。", "{side}先走，{n} 步殺。"],
  "Right! Keep going.": ["对！继续。", "對！繼續。"],
  "Wrong move.": ["走错了。", "走錯了。"],
  "Solved!": ["解出来了！", "解出來了！"],
  "The solution:": ["答案：", "答案："],
  "Your rating: {before} → {after}": ["你的等级分：{before} → {after}", "你的等級分：{before} → {after}"],
  "(tried before: unrated)": ["（做过的题不计分）", "（做過的題不計分）"],
});

const SECRET_KEY = "xqgpt.secret";
const REPLY_MS = 500;  // the defender's reply comes this long after the solver's move
const $ = (id) => document.getElementById(id);
const board = new Board($("pz-board"), (from, to) => onMove(from + to));
board.set({ describe: describeSquare });
const state = { puzzle: null, ply: 0, over: false, result: null, player: null, message: null };

function secret() {
  try {
    return localStorage.getItem(SECRET_KEY);
  } catch {
    return null;
  }
}

async function call(method, path, body) {
  const headers = {};
  const s = secret();
  if (s) headers["X-Game-Secret"] = s;
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  if (data.secret && !s) {
    try {
      localStorage.setItem(SECRET_KEY, data.secret);
    } catch {
      // storage blocked: a new player each time
    }
  }
  return data;
}

const line = () => state.puzzle.moves;
const sideAt = (ply) => ((ply % 2 === 0) === (state.puzzle.turn === "red") ? "red" : "black");

function fenAt(ply) {
  const start = state.puzzle.fen;
  return `${placementAfter(start, line().slice(0, ply))} ${sideAt(ply) === "red" ? "w" : "b"} - - 0 1`;
}

/** Show the position after `ply` moves of the line; the solver may move when it is its turn. */
async function show(ply, { movable = true } = {}) {
  state.ply = ply;
  const last = ply ? line()[ply - 1] : null;
  let dests = new Map();
  if (movable && !state.over && sideAt(ply) === state.puzzle.turn) {
    const legal = await call("GET", `/api/legal?fen=${encodeURIComponent(fenAt(ply))}`);
    for (const m of legal.moves) {
      if (!dests.has(m.slice(0, 2))) dests.set(m.slice(0, 2), []);
      dests.get(m.slice(0, 2)).push(m.slice(2));
    }
  }
  board.set({ fen: fenAt(ply), lastMove: last && [last.slice(0, 2), last.slice(2)],
    movable: { color: dests.size ? state.puzzle.turn : null, dests } });
  $("puzzle-view").dataset.ply = dests.size ? ply : "";  // where the solver may move now
}

async function onMove(uci) {
  if (!state.puzzle || state.over) return;
  const played = line().slice(0, state.ply).filter((_, i) => i % 2 === 0);
  if (uci !== line()[state.ply]) {
    const ply = state.ply;
    board.set({ fen: placementAfter(fenAt(ply), [uci]), lastMove: [uci.slice(0, 2), uci.slice(2)],
      movable: { color: null, dests: new Map() } });
    await finish([...played, uci], false);
    const answer = state.result && state.result.answer;
    if (answer && state.ply === ply) {  // the defender's reply to the move off the line
      board.set({ fen: placementAfter(fenAt(ply), [uci, answer]),
        lastMove: [answer.slice(0, 2), answer.slice(2)] });
      $("puzzle-view").dataset.answer = answer;
    }
    $("puzzle-view").dataset.state = state.result && state.result.solved ? "solved" : "wrong";
    return;
  }
  await show(state.ply + 1, { movable: false });
  if (state.ply === line().length) {
    $("puzzle-view").dataset.state = "solved";
    await finish([...played, uci], false);
    return;
  }
  state.message = "Right! Keep going.";
  render();
  setTimeout(() => show(state.ply + 1), REPLY_MS);
}

/** Send the attempt and show how the ratings moved. */
async function finish(moves, gaveUp) {
  state.over = true;
  try {
    state.result = await call("POST", `/api/puzzles/${state.puzzle.id}/attempt`, { moves, gave_up: gaveUp });
  } catch (err) {
    state.result = { error: err.message };
  }
  render();
}

async function next() {
  try {
    state.puzzle = await call("GET", "/api/puzzles/next");
  } catch (err) {
    state.puzzle = null;
    $("pz-status").textContent = err.message;
    return;
  }
  state.player = state.puzzle.player;
  state.over = false;
  state.result = null;
  state.message = null;
  $("puzzle-view").dataset.state = "playing";
  $("puzzle-view").dataset.puzzle = state.puzzle.id;
  delete $("puzzle-view").dataset.answer;
  board.set({ orientation: state.puzzle.turn });
  await show(0);
  render();
}

async function showSolution() {
  if (!state.puzzle) return;
  if (!state.over) {
    const played = line().slice(0, state.ply).filter((_, i) => i % 2 === 0);
    await finish(played, true);
  }
  for (let ply = state.ply + 1; ply <= line().length; ply++) {
    await new Promise((resolve) => setTimeout(resolve, REPLY_MS));
    await show(ply, { movable: false });
  }
}

function render() {
  const p = state.puzzle;
  $("pz-card-rating").textContent = state.player ? t("Your rating: {rating}", { rating: state.player.rating }) : "";
  if (!p) return;
  const side = t(p.turn === "red" ? "Red" : "Black");
  const n = Math.ceil(p.moves.length / 2);
  const lines = [t("{side} to move and mate in {n}.", { side, n })];
  const r = state.result;
  if (r && r.error) lines.push(r.error);
  else if (r) {
    lines.push(t(r.solved ? "Solved!" : "Wrong move."));
    lines.push(t("Your rating: {before} → {after}", { before: state.player.rating, after: r.player.rating })
      + (r.rated ? "" : ` ${t("(tried before: unrated)")}`));
  } else if (state.message) lines.push(t(state.message));
  $("pz-status").textContent = lines.join(" ");
  $("pz-rating").textContent = t("Puzzle rating: {rating}", { rating: r && !r.error ? r.puzzle.rating : p.rating.rating });
  $("pz-themes").textContent = p.themes.join(" · ");
  $("pz-next").hidden = !state.over;
}

function open() {
  $("puzzle-view").hidden = false;
  next();
}

$("pz-start").addEventListener("click", open);
$("pz-close").addEventListener("click", () => {
  $("puzzle-view").hidden = true;
});
$("pz-next").addEventListener("click", next);
$("pz-solution").addEventListener("click", showSolution);
onLanguageChange(render);
