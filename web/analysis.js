// Analysis: the evaluation bar, best line and hint beside the game (follow), and the analysis view:
// a pasted FEN or PGN, or the open saved game, reviewed move by move with an evaluation graph and
// inaccuracies, mistakes and blunders marked in the move list. Evaluations come from POST
// /api/analyse and are from Red's side; moves are judged by the drop in the mover's expected score
// (win + draw / 2) with lichess's thresholds, as play/analysis.py does.

import * as api from "./api.js";
import { Board } from "./board.js";
import { el } from "./draw.js";
import { chineseScript, joined, onLanguageChange, t, tn } from "./i18n.js";

const FOLLOW_NODES = 64;
const JUDGEMENTS = [["blunder", 0.15, "??"], ["mistake", 0.10, "?"], ["inaccuracy", 0.05, "?!"]];
const UNCLEAR = ["unclear", "(?)"];  // a mistake within the evaluation's noise, or that the search does not confirm
const REVIEW_NOISE = 0.0;  // play/analysis.py REVIEW_NOISE: the measured error of a drop
const REVIEW_LINES = 5;  // lines asked for in a review: the played move's line confirms a mistake
const COUNTED = {  // how many of each, in English words for t()
  blunder: ["{n} blunder", "{n} blunders"], mistake: ["{n} mistake", "{n} mistakes"],
  inaccuracy: ["{n} inaccuracy", "{n} inaccuracies"], unclear: ["{n} unclear", "{n} unclear"],
};
const GRAPH = { width: 600, height: 120 };

const $ = (id) => document.getElementById(id);

/** An HTML element with attributes and text, appended to `parent`. */
function html(tag, attrs, parent, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = text;
  parent.appendChild(node);
  return node;
}

/** Red's expected score (0..1) of an analysis. */
export const redScore = (a) => a.wdl[0] + a.wdl[1] / 2;

/** The best move as an arrow labelled with the expected score of the side to move. */
function bestArrow(a) {
  const best = a.lines[0].move;
  return { from: best.slice(0, 2), to: best.slice(2), p: a.turn === "red" ? redScore(a) : 1 - redScore(a) };
}

/** "+0.35", "-1.20", "#3" (Red mates), "#-2" (Black mates), or the result of a finished game. */
export function scoreText(a) {
  if (a.score.mate !== null) return `#${a.score.mate}`;
  if (a.score.cp !== null) return `${a.score.cp >= 0 ? "+" : ""}${(a.score.cp / 100).toFixed(2)}`;
  return a.result;
}

function notation() {
  const checked = document.querySelector('input[name="notation"]:checked');
  return checked ? checked.value : "chinese";
}

function lineText(line, count = 8) {
  const n = notation();
  const moves = n === "iccs" ? line.pv : n === "wxf" ? line.pv_wxf : line.pv_chinese.map(chineseScript);
  return moves.slice(0, count).join(" ");
}

function moveText(line) {
  const n = notation();
  return n === "iccs" ? line.move : n === "wxf" ? line.wxf : chineseScript(line.chinese);
}

function setBar(bar, a) {
  const red = redScore(a);
  bar.style.setProperty("--share", `${(red * 100).toFixed(1)}%`);
  bar.dataset.red = red.toFixed(3);
  const [redWins, draw, blackWins] = a.wdl.map((p) => Math.round(p * 100));
  bar.title = t("Evaluation {score} · Red {red}% · draw {draw}% · Black {black}%",
    { score: scoreText(a), red: redWins, draw, black: blackWins });
  bar.querySelector(".eval-text").textContent = scoreText(a);
}

/** The judgement of a move from the analyses before and after it, or null. */
function judgement(before, after, played) {
  if (!before || !after || !before.lines.length || before.lines[0].move === played) return null;
  const redMoved = before.turn === "red";
  const loss = (redScore(before) - redScore(after)) * (redMoved ? 1 : -1);
  const found = JUDGEMENTS.find(([, least]) => loss >= least);
  if (!found) return null;
  // as play/analysis.py: the search before the move must see the loss too, else it is unclear
  const seen = before.lines.find((line) => line.move === played);
  const seenLoss = seen ? (redScore(before) - (seen.wdl[0] + seen.wdl[1] / 2)) * (redMoved ? 1 : -1) : loss;
  if (found[1] >= 0.10 && Math.min(loss, seenLoss) < 0.10 + REVIEW_NOISE) return { name: UNCLEAR[0], symbol: UNCLEAR[1], loss };
  return { name: found[0], symbol: found[2], loss };
}

// ---------------------------------------------------------------- beside the game

const follow = { key: null, analysis: null, painted: null, board: null, game: null };

function positionKey(game) {
  return `${game.start_fen}|${game.moves.map((m) => m.iccs).join(" ")}|${game.termination || ""}`;
}

// Endings off the board: the position would still evaluate as if play went on.
const OFF_BOARD = ["resignation", "recorded_result"];

/** A finished game's result as an analysis: the whole bar to the winner, the result as the score. */
function resultAnalysis(game) {
  const wdl = { "1-0": [1, 0, 0], "0-1": [0, 0, 1] }[game.result] || [0, 1, 0];
  return { fen: game.fen, turn: game.turn, wdl, score: { cp: null, mate: null }, lines: [], result: game.result };
}

/** Paint an analysis in the bar, the score and the best line, in the page's language. */
function paintFollowed(a, plies) {
  follow.painted = { a, plies };
  setBar($("eval-bar"), a);
  $("eval-bar").dataset.plies = plies;
  $("eval-score").textContent = scoreText(a);
  $("best-line").textContent = a.lines.length ? t("Best line: {line}", { line: lineText(a.lines[0]) }) : "";
}

/** Keep the evaluation bar, score and best line on the position of `game` (called on each render). */
export async function followGame(game, board) {
  follow.board = board;
  follow.game = game;
  if (!game || !$("show-eval").checked) return;
  const key = positionKey(game);
  if (key === follow.key) return;
  follow.key = key;
  follow.analysis = null;
  $("hint-text").textContent = "";
  if (game.status === "finished" && OFF_BOARD.includes(game.termination)) {
    follow.analysis = resultAnalysis(game);
    paintFollowed(follow.analysis, game.moves.length);
    $("engine").dataset.state = "ready";
    return;
  }
  $("engine").dataset.state = "thinking";
  try {
    const a = await api.analyse({ fen: game.start_fen, moves: game.moves.map((m) => m.iccs), nodes: FOLLOW_NODES });
    if (follow.key !== key) return;  // the game moved on meanwhile
    follow.analysis = a;
    paintFollowed(a, game.moves.length);
    $("engine").dataset.state = "ready";
  } catch (err) {
    if (follow.key === key) {
      follow.key = null;
      $("engine").dataset.state = "error";
      $("best-line").textContent = err.message;
    }
  }
}

function showHint() {
  const a = follow.analysis;
  if (!a || !a.lines.length) {
    $("hint-text").textContent = t(a ? "No move to hint: the game is over." : "Still thinking…");
    return;
  }
  const best = a.lines[0];
  $("hint-text").textContent = t("Hint: {move}", { move: moveText(best) });
  $("hint-text").dataset.move = best.move;
  follow.board.set({ arrows: [bestArrow(a)] });
}

// ---------------------------------------------------------------- the analysis view

const view = { board: null, startFen: null, moves: [], analyses: [], ply: 0, run: 0 };

function openView() {
  $("analysis-view").hidden = false;
  if (!view.board) view.board = new Board($("an-board"), () => {});
}

function closeView() {
  $("analysis-view").hidden = true;
  view.run += 1;  // stop a review in progress
}

/** Review a game (a GameState: start_fen and moves) position by position. */
async function review(game) {
  const run = ++view.run;
  Object.assign(view, { startFen: game.start_fen, moves: game.moves, analyses: [], ply: 0 });
  $("an-title").textContent = game.headers && game.headers.Event ? game.headers.Event : t("Analysis");
  $("analysis-view").dataset.done = "0";
  renderView();
  const nodes = Number($("an-nodes").value);
  const iccs = game.moves.map((m) => m.iccs);
  for (let i = 0; i <= iccs.length; i++) {
    const a = await api.analyse({ fen: game.start_fen, moves: iccs.slice(0, i), nodes, multipv: REVIEW_LINES });
    if (run !== view.run) return;
    view.analyses.push(a);
    renderView();
  }
  $("analysis-view").dataset.done = "1";
  $("an-progress").textContent = summaryText();
}

function summaryText() {
  const counts = { red: {}, black: {} };
  view.moves.forEach((m, i) => {
    const j = judgement(view.analyses[i], view.analyses[i + 1], m.iccs);
    if (j) counts[m.side][j.name] = (counts[m.side][j.name] || 0) + 1;
  });
  const names = [...JUDGEMENTS.map(([name]) => name), UNCLEAR[0]];
  const side = (s) => joined(names.map((name) => tn(counts[s][name] || 0, ...COUNTED[name])).reverse());
  return t("Red: {red} · Black: {black}", { red: side("red"), black: side("black") });
}

function go(ply) {
  view.ply = Math.max(0, Math.min(ply, view.moves.length));
  renderView();
}

function renderView() {
  const a = view.analyses[view.ply];
  const done = view.analyses.length;
  $("an-progress").textContent = done <= view.moves.length
    ? t("Analysing… {done}/{total} positions", { done, total: view.moves.length + 1 }) : summaryText();
  if (a) {
    const last = view.ply ? view.moves[view.ply - 1].iccs : null;
    view.board.set({ fen: a.fen, lastMove: last && [last.slice(0, 2), last.slice(2)],
      arrows: a.lines.length ? [bestArrow(a)] : [] });
    setBar($("an-bar"), a);
    $("an-score").textContent = scoreText(a);
    $("an-line").textContent = a.lines.length ? t("Best line: {line}", { line: lineText(a.lines[0]) }) : a.result;
  }
  renderReviewMoves();
  renderGraph();
}

function renderReviewMoves() {
  const list = $("an-moves");
  list.replaceChildren();
  let li = null;
  view.moves.forEach((m, i) => {
    if (m.side === "red" || li === null) li = html("li", {}, list);
    const j = judgement(view.analyses[i], view.analyses[i + 1], m.iccs);
    const text = notation() === "iccs" ? m.iccs : notation() === "wxf" ? m.wxf : chineseScript(m.chinese);
    const span = html("span", { class: `mv ${m.side}${j ? ` ${j.name}` : ""}${view.ply === i + 1 ? " last" : ""}`,
      "data-ply": i + 1 }, li, text + (j ? j.symbol : ""));
    if (j) span.title = `${t(j.name)} (−${Math.round(j.loss * 100)}%)`;
    span.addEventListener("click", () => go(i + 1));
  });
}

function renderGraph() {
  const svg = $("an-graph");
  svg.replaceChildren();
  const { width, height } = GRAPH;
  const n = Math.max(1, view.moves.length);
  const x = (i) => (i / n) * width;
  const y = (score) => (1 - score) * height;
  el("line", { class: "mid", x1: 0, y1: height / 2, x2: width, y2: height / 2 }, svg);
  const points = view.analyses.map((a, i) => `${x(i).toFixed(1)},${y(redScore(a)).toFixed(1)}`);
  if (points.length) {
    el("polygon", { class: "area", points: `0,${height} ${points.join(" ")} ${x(points.length - 1)},${height}` }, svg);
    el("polyline", { class: "curve", points: points.join(" ") }, svg);
  }
  view.moves.forEach((m, i) => {
    const j = judgement(view.analyses[i], view.analyses[i + 1], m.iccs);
    if (j) el("circle", { class: `mark ${j.name}`, cx: x(i + 1), cy: y(redScore(view.analyses[i + 1])), r: 5 }, svg);
  });
  el("line", { class: "cursor", x1: x(view.ply), y1: 0, x2: x(view.ply), y2: height }, svg);
}

function graphClick(event) {
  const box = $("an-graph").getBoundingClientRect();
  go(Math.round(((event.clientX - box.left) / box.width) * Math.max(1, view.moves.length)));
}

/** The pasted text: a FEN is analysed as one position; anything else is imported as a game. */
async function analyseText() {
  const text = $("an-input").value.trim();
  if (!text) return;
  openView();
  $("an-error").textContent = "";
  try {
    if (/^[1-9kabnrcpKABNRCP]+(\/[1-9kabnrcpKABNRCP]+){9}(\s|$)/.test(text)) {
      const p = await api.position(text);
      await review({ start_fen: p.fen, moves: [], headers: {} });
    } else {
      await review(await api.importPgn(text));
    }
  } catch (err) {
    $("an-error").textContent = err.message;
  }
}

async function analyseCurrentGame() {
  const match = location.hash.match(/game=([A-Za-z0-9_-]+)/);
  openView();
  $("an-error").textContent = "";
  try {
    if (match) await review(await api.getGame(match[1]));
    else if (follow.game) await review(follow.game);
  } catch (err) {
    $("an-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- controls

$("hint").addEventListener("click", showHint);
$("show-eval").addEventListener("change", () => {
  $("engine").hidden = false;
  $("eval-bar").hidden = !$("show-eval").checked;
  if ($("show-eval").checked) followGame(follow.game, follow.board);
  else follow.key = null;
});
$("open-analysis").addEventListener("click", () => openView());
$("an-close").addEventListener("click", closeView);
$("an-open").addEventListener("click", analyseText);
$("an-this-game").addEventListener("click", analyseCurrentGame);
$("an-first").addEventListener("click", () => go(0));
$("an-prev").addEventListener("click", () => go(view.ply - 1));
$("an-next").addEventListener("click", () => go(view.ply + 1));
$("an-last").addEventListener("click", () => go(view.moves.length));
$("an-graph").addEventListener("click", graphClick);
$("analysis-view").addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLTextAreaElement) return;
  if (event.key === "ArrowLeft") go(view.ply - 1);
  if (event.key === "ArrowRight") go(view.ply + 1);
  if (event.key === "Escape") closeView();
});
// The words of the bar, the line and the view follow the page's language (i18n.js).
onLanguageChange(() => {
  // What is shown (the last analysis, also while the next is thinking) again, in the new words.
  if (follow.painted) paintFollowed(follow.painted.a, follow.painted.plies);
  if (view.board) renderView();
});
