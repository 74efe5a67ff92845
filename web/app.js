// Xiangqi-GPT web board. Talks to the server only through the HTTP API under /api.

const CELL = 60;
const MARGIN = 56;
const WIDTH = 2 * MARGIN + 8 * CELL;
const HEIGHT = 2 * MARGIN + 9 * CELL;
const RADIUS = 26;
const SVG_NS = "http://www.w3.org/2000/svg";
const FILES = "abcdefghi";
const CN_NUMERALS = "一二三四五六七八九";
const GLYPHS = {
  K: "帥", A: "仕", B: "相", N: "傌", R: "俥", C: "炮", P: "兵",
  k: "將", a: "士", b: "象", n: "馬", r: "車", c: "砲", p: "卒",
};
const PIECE_NAMES = { k: "general", a: "advisor", b: "elephant", n: "horse", r: "chariot", c: "cannon", p: "soldier" };
const ENDINGS = {
  checkmate: "Checkmate",
  stalemate: "Stalemate (no legal move)",
  perpetual_check: "Perpetual check",
  repetition: "Draw by repetition",
  move_limit: "Draw by the move limit",
  resignation: "Resignation",
  recorded_result: "Game over",
};

const $ = (id) => document.getElementById(id);
const board = $("board");

const state = {
  game: null,        // GameState from the server
  position: [],      // 90 FEN letters (null = empty), square = rank * 9 + file
  flipped: false,
  selected: null,    // square of the picked-up piece
  cursor: 4,         // keyboard cursor square
  candidates: [],    // the model's candidates for its last move
  notation: "chinese",
  busy: false,
  drag: null,        // {from, x, y, moved}
  pending: null,     // {from, to}: the human's move while the server answers
  note: "",          // what the model just played, shown after the status
  bannerClosed: false,
};

// ---------------------------------------------------------------- API

async function api(method, path, body) {
  const options = { method, headers: {} };
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
  return data;
}

// ---------------------------------------------------------------- position helpers

function parseFen(fen) {
  const squares = new Array(90).fill(null);
  fen.split(" ")[0].split("/").forEach((row, i) => {
    const rank = 9 - i;
    let file = 0;
    for (const ch of row) {
      if (/\d/.test(ch)) file += Number(ch);
      else squares[rank * 9 + file++] = ch;
    }
  });
  return squares;
}

const sqName = (sq) => FILES[sq % 9] + Math.floor(sq / 9);
const parseSq = (name) => FILES.indexOf(name[0]) + 9 * Number(name[1]);
const isRed = (letter) => letter === letter.toUpperCase();
const humanIsRed = () => state.game && state.game.human_side === "red";

function xy(sq) {
  const file = sq % 9;
  const rank = Math.floor(sq / 9);
  const col = state.flipped ? 8 - file : file;
  const row = state.flipped ? rank : 9 - rank;
  return [MARGIN + col * CELL, MARGIN + row * CELL];
}

function squareAt(x, y) {
  const col = Math.round((x - MARGIN) / CELL);
  const row = Math.round((y - MARGIN) / CELL);
  if (col < 0 || col > 8 || row < 0 || row > 9) return null;
  const file = state.flipped ? 8 - col : col;
  const rank = state.flipped ? row : 9 - row;
  return rank * 9 + file;
}

function canPlay() {
  const g = state.game;
  return g && !state.busy && g.status === "playing" && g.turn === g.human_side;
}

function legalTargets(from) {
  if (from === null || !canPlay()) return [];
  const name = sqName(from);
  return state.game.legal_moves.filter((m) => m.startsWith(name)).map((m) => parseSq(m.slice(2)));
}

const isMine = (sq) => state.position[sq] && isRed(state.position[sq]) === humanIsRed();

// ---------------------------------------------------------------- drawing

function el(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function drawGrid(layer) {
  const x0 = MARGIN, y0 = MARGIN, x1 = MARGIN + 8 * CELL, y1 = MARGIN + 9 * CELL;
  el("rect", { x: 0, y: 0, width: WIDTH, height: HEIGHT, rx: 12, class: "wood" }, layer);
  el("rect", { x: x0 - 6, y: y0 - 6, width: 8 * CELL + 12, height: 9 * CELL + 12, class: "frame" }, layer);
  const lines = el("g", { class: "lines" }, layer);
  for (let row = 0; row <= 9; row++) {
    el("line", { x1: x0, y1: y0 + row * CELL, x2: x1, y2: y0 + row * CELL }, lines);
  }
  for (let col = 0; col <= 8; col++) {
    const x = x0 + col * CELL;
    if (col === 0 || col === 8) {
      el("line", { x1: x, y1: y0, x2: x, y2: y1 }, lines);
    } else {
      el("line", { x1: x, y1: y0, x2: x, y2: y0 + 4 * CELL }, lines);
      el("line", { x1: x, y1: y0 + 5 * CELL, x2: x, y2: y1 }, lines);
    }
  }
  for (const top of [0, 7]) {  // palaces
    const ya = y0 + top * CELL, yb = ya + 2 * CELL;
    el("line", { x1: x0 + 3 * CELL, y1: ya, x2: x0 + 5 * CELL, y2: yb }, lines);
    el("line", { x1: x0 + 5 * CELL, y1: ya, x2: x0 + 3 * CELL, y2: yb }, lines);
  }
  const riverY = y0 + 4.5 * CELL;
  el("text", { x: x0 + 2 * CELL, y: riverY, class: "river" }, layer, "楚 河");
  el("text", { x: x0 + 6 * CELL, y: riverY, class: "river" }, layer, "漢 界");
  for (let col = 0; col <= 8; col++) {  // file numbers, each side counts from its own right
    const file = state.flipped ? 8 - col : col;
    const bottomRed = !state.flipped;
    const redLabel = CN_NUMERALS[8 - file];
    const blackLabel = String(file + 1);
    const x = x0 + col * CELL;
    el("text", { x, y: 18, class: "coord" }, layer, bottomRed ? blackLabel : redLabel);
    el("text", { x, y: HEIGHT - 18, class: "coord" }, layer, bottomRed ? redLabel : blackLabel);
  }
}

function drawMarks(layer) {
  const g = state.game;
  const last = g && g.moves.length ? g.moves[g.moves.length - 1].iccs : null;
  const shown = state.pending ? [state.pending.from, state.pending.to] : last ? [parseSq(last), parseSq(last.slice(2))] : [];
  for (const sq of shown) {
    const [x, y] = xy(sq);
    el("rect", { x: x - 29, y: y - 29, width: 58, height: 58, rx: 6, class: "last-move" }, layer);
  }
  if (g && g.in_check && !state.pending) {
    const general = g.turn === "red" ? "K" : "k";
    const sq = state.position.indexOf(general);
    if (sq >= 0) {
      const [x, y] = xy(sq);
      el("circle", { cx: x, cy: y, r: RADIUS + 9, class: "check" }, layer);
    }
  }
  if (state.selected !== null) {
    const [x, y] = xy(state.selected);
    el("circle", { cx: x, cy: y, r: RADIUS + 4, class: "selected" }, layer);
  }
}

function drawPieces(layer) {
  state.position.forEach((letter, sq) => {
    if (!letter) return;
    const [x, y] = xy(sq);
    const color = isRed(letter) ? "red" : "black";
    const dragging = state.drag && state.drag.moved && state.drag.from === sq;
    const g = el("g", {
      class: `piece ${color}${dragging ? " lifted" : ""}`, "data-square": sqName(sq),
      transform: `translate(${x} ${y})`,
    }, layer);
    el("circle", { r: RADIUS, class: "disc" }, g);
    el("circle", { r: RADIUS - 4, class: "ring" }, g);
    el("text", { class: "glyph", y: 1 }, g, GLYPHS[letter]);
  });
}

function drawDots(layer) {
  for (const sq of legalTargets(state.selected)) {
    const [x, y] = xy(sq);
    const capture = state.position[sq] !== null;
    el("circle", {
      cx: x, cy: y, r: capture ? RADIUS + 2 : 8, class: capture ? "dot capture" : "dot",
      "data-target": sqName(sq),
    }, layer);
  }
}

function drawArrows(layer) {
  if (!$("show-candidates").checked || state.pending) return;
  const defs = el("defs", {}, layer);
  const marker = el("marker", {
    id: "arrowhead", viewBox: "0 0 10 10", refX: 6, refY: 5, markerWidth: 4, markerHeight: 4, orient: "auto",
  }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
  state.candidates.forEach((c, i) => {
    const [xa, ya] = xy(parseSq(c.move));
    const [xb, yb] = xy(parseSq(c.move.slice(2)));
    const len = Math.hypot(xb - xa, yb - ya) || 1;
    const ux = (xb - xa) / len, uy = (yb - ya) / len;
    const g = el("g", { class: `arrow${i === 0 ? " best" : ""}`, "data-move": c.move }, layer);
    el("line", {
      x1: xa + ux * 12, y1: ya + uy * 12, x2: xb - ux * 18, y2: yb - uy * 18,
      "stroke-width": 4 + 10 * c.p, "marker-end": "url(#arrowhead)",
    }, g);
    const lx = xb - ux * 34, ly = yb - uy * 34;
    el("rect", { x: lx - 19, y: ly - 11, width: 38, height: 20, rx: 6, class: "arrow-label" }, g);
    el("text", { x: lx, y: ly, class: "arrow-text" }, g, `${Math.round(c.p * 100)}%`);
  });
}

function drawCursor(layer) {
  if (document.activeElement !== board || state.cursor === null) return;
  const [x, y] = xy(state.cursor);
  el("rect", { x: x - 30, y: y - 30, width: 60, height: 60, rx: 8, class: "cursor" }, layer);
}

function renderBoard() {
  board.replaceChildren();
  drawGrid(el("g", { class: "grid" }, board));
  drawMarks(el("g", { class: "marks" }, board));
  drawPieces(el("g", { class: "pieces" }, board));
  drawDots(el("g", { class: "dots" }, board));
  drawArrows(el("g", { class: "arrows" }, board));
  drawCursor(el("g", { class: "cursor-layer" }, board));
  if (state.drag && state.drag.moved) {
    const letter = state.position[state.drag.from];
    const g = el("g", { class: `piece ${isRed(letter) ? "red" : "black"} ghost`,
      transform: `translate(${state.drag.x} ${state.drag.y})` }, board);
    el("circle", { r: RADIUS, class: "disc" }, g);
    el("circle", { r: RADIUS - 4, class: "ring" }, g);
    el("text", { class: "glyph", y: 1 }, g, GLYPHS[letter]);
  }
}

// ---------------------------------------------------------------- side panel

function moveText(m) {
  return m[state.notation];
}

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
    li.appendChild(moveSpan(moveText(m), i === g.moves.length - 1, m));
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
    chip.textContent = `${c.move} ${Math.round(c.p * 100)}%`;
    box.appendChild(chip);
  }
}

function sideName(side) {
  return side === "red" ? "Red" : "Black";
}

function renderStatus() {
  const g = state.game;
  let text = "";
  if (!g) text = "Start a new game.";
  else if (g.status === "finished") text = `${ENDINGS[g.termination] || "Game over"} · ${g.result}`;
  else if (state.busy) text = "The model is thinking…";
  else if (g.turn === g.human_side) text = `Your move (${sideName(g.human_side)})${g.in_check ? " · Check!" : ""}`;
  else text = "Waiting for the model…";
  $("status").textContent = state.note ? `${text} — ${state.note}` : text;
  $("undo").disabled = !g || state.busy || g.termination === "resignation";
  $("resign").disabled = !g || state.busy || g.status !== "playing";
  $("export").disabled = !g;
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
  $("banner-title").textContent = ending;
  $("banner-detail").textContent = detail;
  banner.dataset.termination = g.termination;
  banner.hidden = false;
}

function render() {
  renderBoard();
  renderMoves();
  renderCandidates();
  renderStatus();
  renderBanner();
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
  state.position = parseFen(game.fen);
  state.candidates = candidates;
  state.selected = null;
  state.pending = null;
  state.note = "";
  state.bannerClosed = false;
  if (changedGame) state.flipped = game.human_side === "black" && game.status === "playing";
  localStorage.setItem("xqgpt.game", String(game.id));
  if (location.hash !== `#game=${game.id}`) history.replaceState(null, "", `#game=${game.id}`);
  render();
}

async function run(action) {
  if (state.busy) return;
  state.busy = true;
  showError("");
  renderStatus();
  try {
    await action();
  } catch (err) {
    showError(err.message);
    if (state.game) state.position = parseFen(state.game.fen);
    state.pending = null;
  } finally {
    state.busy = false;
    render();
  }
}

function newGame() {
  return run(async () => {
    const game = await api("POST", "/api/games", { side: $("side").value, level: $("level").value });
    setGame(game, game.reply ? game.reply.candidates : []);
    await loadGames();
  });
}

function playMove(from, to) {
  const move = sqName(from) + sqName(to);
  // Show the human's move at once; the server's answer replaces the position.
  state.position[to] = state.position[from];
  state.position[from] = null;
  state.selected = null;
  state.pending = { from, to };
  return run(async () => {
    renderBoard();
    const res = await api("POST", `/api/games/${state.game.id}/moves`, { move });
    setGame(res.game, res.reply ? res.reply.candidates : []);
    state.note = res.reply ? `the model played ${res.reply.chinese} (${res.reply.wxf})` : "";
    await loadGames();
  });
}

async function loadGames() {
  const data = await api("GET", "/api/games?limit=30");
  const list = $("games");
  list.replaceChildren();
  for (const g of data.games) {
    const li = document.createElement("li");
    if (state.game && g.id === state.game.id) li.className = "current";
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
}

function openGame(id) {
  return run(async () => setGame(await api("GET", `/api/games/${id}`)));
}

async function loadLevels() {
  const data = await api("GET", "/api/levels");
  const select = $("level");
  for (const level of data.levels) {
    const option = new Option(level.name, level.name, level.name === data.default, level.name === data.default);
    option.title = level.description;
    select.appendChild(option);
  }
  const help = () => {
    const level = data.levels.find((l) => l.name === select.value);
    $("level-help").textContent = level ? level.description : "";
  };
  select.addEventListener("change", help);
  help();
}

async function exportPgn() {
  const id = state.game.id;
  const notation = state.notation === "iccs" ? "iccs" : state.notation === "wxf" ? "wxf" : "chinese";
  const text = await api("GET", `/api/games/${id}/pgn?notation=${notation}`);
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
    setGame(await api("POST", "/api/games/import", { pgn, level: $("level").value }));
    $("pgn-text").value = "";
    await loadGames();
  });
}

// ---------------------------------------------------------------- input

function pointerSquare(event) {
  const pt = board.createSVGPoint();
  pt.x = event.clientX;
  pt.y = event.clientY;
  const p = pt.matrixTransform(board.getScreenCTM().inverse());
  return { sq: squareAt(p.x, p.y), x: p.x, y: p.y };
}

// A press on a square: pick up one's own piece, or drop the picked-up piece on a legal target.
function pressSquare(sq) {
  if (sq === null || !canPlay()) return false;
  if (state.selected !== null && legalTargets(state.selected).includes(sq)) {
    playMove(state.selected, sq);
    return true;
  }
  state.selected = isMine(sq) && state.selected !== sq ? sq : null;
  renderBoard();
  return false;
}

board.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  const { sq, x, y } = pointerSquare(event);
  if (sq === null) return;
  state.cursor = sq;
  if (canPlay() && isMine(sq)) {
    const wasSelected = state.selected === sq;
    state.selected = sq;
    state.drag = { from: sq, x, y, startX: x, startY: y, moved: false, wasSelected };
    board.setPointerCapture(event.pointerId);
    renderBoard();
  } else {
    pressSquare(sq);
  }
  event.preventDefault();
});

board.addEventListener("pointermove", (event) => {
  const drag = state.drag;
  if (!drag) return;
  const { x, y } = pointerSquare(event);
  drag.x = x;
  drag.y = y;
  if (!drag.moved && Math.hypot(x - drag.startX, y - drag.startY) > 8) drag.moved = true;
  if (drag.moved) renderBoard();
});

board.addEventListener("pointerup", (event) => {
  const drag = state.drag;
  if (!drag) return;
  state.drag = null;
  const { sq } = pointerSquare(event);
  if (drag.moved) {
    if (sq !== null && legalTargets(drag.from).includes(sq)) {
      playMove(drag.from, sq);
      return;
    }
  } else if (drag.wasSelected) {
    state.selected = null;  // a second click on the picked-up piece puts it down
  }
  renderBoard();
});

board.addEventListener("pointercancel", () => {
  state.drag = null;
  renderBoard();
});

board.addEventListener("keydown", (event) => {
  const step = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] }[event.key];
  if (step) {
    const [x, y] = xy(state.cursor ?? 4);
    const next = squareAt(x + step[0] * CELL, y + step[1] * CELL);
    if (next !== null) state.cursor = next;
    announceCursor();
    renderBoard();
  } else if (event.key === "Enter" || event.key === " ") {
    pressSquare(state.cursor);
  } else if (event.key === "Escape") {
    state.selected = null;
    renderBoard();
  } else {
    return;
  }
  event.preventDefault();
});

function announceCursor() {
  const letter = state.position[state.cursor];
  const what = letter ? `${isRed(letter) ? "red" : "black"} ${PIECE_NAMES[letter.toLowerCase()]}` : "empty";
  board.setAttribute("aria-label", `${sqName(state.cursor)}: ${what}`);
}

board.addEventListener("focus", renderBoard);
board.addEventListener("blur", renderBoard);

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
  setGame(await api("POST", `/api/games/${state.game.id}/undo`));
  await loadGames();
}));
$("resign").addEventListener("click", () => run(async () => {
  setGame(await api("POST", `/api/games/${state.game.id}/resign`));
  await loadGames();
}));
$("flip").addEventListener("click", () => {
  state.flipped = !state.flipped;
  renderBoard();
});
$("show-candidates").addEventListener("change", () => {
  renderBoard();
  renderCandidates();
});
for (const radio of document.querySelectorAll('input[name="notation"]')) {
  radio.addEventListener("change", () => {
    state.notation = radio.value;
    renderMoves();
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

async function start() {
  try {
    await loadLevels();
    await loadGames();
    const wanted = (location.hash.match(/game=(\d+)/) || [])[1] || localStorage.getItem("xqgpt.game");
    if (wanted) {
      try {
        setGame(await api("GET", `/api/games/${wanted}`));
        return;
      } catch {
        localStorage.removeItem("xqgpt.game");
      }
    }
    await newGame();
  } catch (err) {
    showError(err.message);
  } finally {
    render();
    document.body.dataset.ready = "1";
  }
}

start();
