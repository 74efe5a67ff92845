// The opening explorer pane: what master games played in the shown position (count, result bar,
// players' mean rating) beside the model's probability of the same moves (GET /api/explorer).
// A click on a move plays it when the host allows (followExplorer's `play`).

import { addStrings, chineseScript, onLanguageChange, t } from "./i18n.js";

addStrings({
  "Explorer": ["开局库", "開局庫"],
  "Show the explorer": ["显示开局库", "顯示開局庫"],
  "Games": ["局数", "局數"],
  "Results": ["胜和负", "勝和負"],
  "Model": ["模型", "模型"],
  "Master games' moves here, with the model's probability": ["大师对局在此局面的着法，及模型的概率",
    "大師對局在此局面的著法，及模型的機率"],
  "No master game reached this position.": ["没有大师对局到过这个局面。", "沒有大師對局到過這個局面。"],
  "{n} games · Red {red}% · draw {draw}% · Black {black}%": ["{n} 局 · 红胜 {red}% · 和 {draw}% · 黑胜 {black}%",
    "{n} 局 · 紅勝 {red}% · 和 {draw}% · 黑勝 {black}%"],
  "{n} games": ["{n} 局", "{n} 局"],
  "mean rating {elo}": ["平均等级分 {elo}", "平均等級分 {elo}"],
  "Play {move}": ["走 {move}", "走 {move}"],
  "Example games": ["对局示例", "對局示例"],
  "The explorer is unavailable: {error}": ["开局库不可用：{error}", "開局庫不可用：{error}"],
  "Open in the analysis view": ["在分析视图中打开", "在分析檢視中開啟"],
});

const $ = (id) => document.getElementById(id);
const follow = { key: null, data: null, game: null, play: null };

/** Show the explorer for the position of `game` (the page's game object: start_fen and moves); a
 * click on a move calls `play(iccs)`, or nothing when `play` is null (not the player's turn). */
export async function followExplorer(game, play) {
  follow.game = game;
  follow.play = play;
  if (!game || !$("show-explorer").checked) {
    $("explorer-body").hidden = !game || !$("show-explorer").checked;
    return;
  }
  $("explorer-body").hidden = false;
  const moves = game.moves.map((m) => m.iccs);
  const key = `${game.start_fen}|${moves.join(" ")}`;
  if (key === follow.key) {
    render();  // the same position: only whether a click plays may have changed
    return;
  }
  follow.key = key;
  $("explorer").dataset.state = "loading";
  try {
    const params = new URLSearchParams({ fen: game.start_fen, moves: moves.join(" ") });
    const response = await fetch(`/api/explorer?${params}`);
    const data = await response.json();
    if (follow.key !== key) return;  // the game moved on meanwhile
    if (!response.ok) throw new Error(data.detail || response.statusText);
    follow.data = data;
    $("explorer").dataset.state = "ready";
  } catch (err) {
    if (follow.key !== key) return;
    follow.key = null;
    follow.data = { error: err.message };
    $("explorer").dataset.state = "error";
  }
  render();
}

function notation() {
  const checked = document.querySelector('input[name="notation"]:checked');
  return checked ? checked.value : "chinese";
}

function written(m) {
  const n = notation();
  if (n === "iccs") return m.move;
  return n === "chinese" ? chineseScript(m.chinese) : m.wxf;
}

function percent(part, counts) {
  const decided = counts.red + counts.draws + counts.black;
  return decided ? Math.round((100 * part) / decided) : 0;
}

/** The Red / draw / Black shares of a row's games as a bar. */
function resultBar(counts) {
  const bar = document.createElement("span");
  bar.className = "xp-bar";
  const decided = counts.red + counts.draws + counts.black;
  if (!decided) return bar;
  for (const [side, n] of [["red", counts.red], ["draw", counts.draws], ["black", counts.black]]) {
    const part = document.createElement("span");
    part.className = `xp-${side}`;
    part.style.width = `${(100 * n) / decided}%`;
    const share = percent(n, counts);
    if (share >= 15) part.textContent = `${share}%`;
    bar.appendChild(part);
  }
  bar.title = t("{n} games · Red {red}% · draw {draw}% · Black {black}%", { n: counts.games,
    red: percent(counts.red, counts), draw: percent(counts.draws, counts), black: percent(counts.black, counts) });
  return bar;
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (content instanceof Node) td.appendChild(content);
  else td.textContent = content;
  row.appendChild(td);
}

function render() {
  const data = follow.data;
  const table = $("explorer-moves");
  const summary = $("explorer-summary");
  const games = $("explorer-games");
  table.replaceChildren();
  games.replaceChildren();
  if (!data) return;
  if (data.error) {
    summary.textContent = t("The explorer is unavailable: {error}", { error: data.error });
    return;
  }
  const pos = data.position;
  summary.textContent = pos
    ? [t("{n} games", { n: pos.games }), pos.rating ? t("mean rating {elo}", { elo: pos.rating }) : ""]
      .filter(Boolean).join(" · ")
    : t("No master game reached this position.");
  const head = document.createElement("tr");
  for (const title of ["Move", "Games", "Results", "Model"]) {
    const th = document.createElement("th");
    th.textContent = t(title);
    head.appendChild(th);
  }
  table.appendChild(head);
  for (const m of data.moves) {
    const row = document.createElement("tr");
    row.dataset.move = m.move;
    row.className = m.games ? "xp-played" : "xp-model";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "xp-move";
    button.textContent = written(m);
    button.title = `${m.chinese} · ${m.wxf} · ${m.move}`;
    button.setAttribute("aria-label", t("Play {move}", { move: written(m) }));
    button.disabled = !follow.play;
    button.addEventListener("click", () => follow.play && follow.play(m.move));
    cell(row, button);
    cell(row, m.games ? String(m.games) : "–", "xp-count");
    cell(row, m.games ? resultBar(m) : "", "xp-result");
    cell(row, m.p === null ? "" : `${(100 * m.p).toFixed(m.p < 0.1 ? 1 : 0)}%`, "xp-p");
    if (m.rating) row.title = t("mean rating {elo}", { elo: m.rating });
    table.appendChild(row);
  }
  for (const g of data.examples) {
    const li = document.createElement("li");
    const players = [g.red, g.black].filter(Boolean).join(" – ");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "xp-open";
    open.textContent = [players, g.result, g.event, g.year].filter(Boolean).join(" · ");
    open.title = t("Open in the analysis view");
    open.addEventListener("click", () => openInAnalysis(g));
    li.appendChild(open);
    games.appendChild(li);
  }
  $("explorer-games-h").hidden = !data.examples.length;
}

/** An example game as PGN text (ICCS moves). */
function examplePgn(g) {
  const quote = (v) => String(v).replace(/["\\]/g, "");
  const headers = { Red: g.red, Black: g.black, Event: g.event, Date: g.year, Result: g.result, FEN: g.fen };
  const lines = Object.entries(headers).filter(([, v]) => v).map(([k, v]) => `[${k} "${quote(v)}"]`);
  const offset = g.fen.split(" ")[1] === "b" ? 1 : 0;
  const words = g.moves.map((m, i) => ((i + offset) % 2 ? m : `${(i + offset) / 2 + 1}. ${m}`));
  return `${lines.join("\n")}\n\n${words.join(" ")} ${g.result}\n`;
}

/** Review an example game in the analysis view (as a game pasted there). */
function openInAnalysis(g) {
  $("an-input").value = examplePgn(g);
  $("an-open").click();
}

$("show-explorer").addEventListener("change", () => {
  follow.key = null;
  followExplorer(follow.game, follow.play);
});
for (const radio of document.querySelectorAll('input[name="notation"]')) radio.addEventListener("change", render);
onLanguageChange(render);
