// Drawing the board in SVG: the grid once, then the layers that change (marks, pieces, dots, arrows).
// Squares are ICCS names: file a-i from Red's left, rank 0-9 from Red's side ("e0" is Red's general).

export const CELL = 60;
export const MARGIN = 56;
export const WIDTH = 2 * MARGIN + 8 * CELL;
export const HEIGHT = 2 * MARGIN + 9 * CELL;
export const RADIUS = 26;

const SVG_NS = "http://www.w3.org/2000/svg";
const FILES = "abcdefghi";
const CN_NUMERALS = "一二三四五六七八九";
const GLYPHS = {
  K: "帥", A: "仕", B: "相", N: "傌", R: "俥", C: "炮", P: "兵",
  k: "將", a: "士", b: "象", n: "馬", r: "車", c: "砲", p: "卒",
};

export const squareName = (sq) => FILES[sq % 9] + Math.floor(sq / 9);
export const squareIndex = (name) => FILES.indexOf(name[0]) + 9 * Number(name[1]);
export const isRed = (letter) => letter === letter.toUpperCase();

/** The 90 squares of a FEN's placement field: a piece letter, or null for an empty square. */
export function parsePlacement(fen) {
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

/** The centre of a square in SVG coordinates; `flipped` puts Black at the bottom. */
export function xy(sq, flipped) {
  const file = sq % 9;
  const rank = Math.floor(sq / 9);
  const col = flipped ? 8 - file : file;
  const row = flipped ? rank : 9 - rank;
  return [MARGIN + col * CELL, MARGIN + row * CELL];
}

/** The square nearest to an SVG point, or null off the board. */
export function squareAt(x, y, flipped) {
  const col = Math.round((x - MARGIN) / CELL);
  const row = Math.round((y - MARGIN) / CELL);
  if (col < 0 || col > 8 || row < 0 || row > 9) return null;
  const file = flipped ? 8 - col : col;
  const rank = flipped ? row : 9 - row;
  return rank * 9 + file;
}

export function el(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

/** Wood, frame, lines, palaces, river and the arrowhead marker: drawn once, never changed. */
export function drawGrid(layer) {
  const x0 = MARGIN, y0 = MARGIN, x1 = MARGIN + 8 * CELL, y1 = MARGIN + 9 * CELL;
  const marker = el("marker", {
    id: "arrowhead", viewBox: "0 0 10 10", refX: 6, refY: 5, markerWidth: 4, markerHeight: 4, orient: "auto",
  }, el("defs", {}, layer));
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
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
}

/** File numbers, each side counting from its own right: redrawn only when the board turns. */
export function drawCoords(layer, flipped) {
  layer.replaceChildren();
  for (let col = 0; col <= 8; col++) {
    const file = flipped ? 8 - col : col;
    const redLabel = CN_NUMERALS[8 - file];
    const blackLabel = String(file + 1);
    const x = MARGIN + col * CELL;
    el("text", { x, y: 18, class: "coord" }, layer, flipped ? redLabel : blackLabel);
    el("text", { x, y: HEIGHT - 18, class: "coord" }, layer, flipped ? blackLabel : redLabel);
  }
}

/** The last move's two squares, the general in check and the picked-up piece. */
export function drawMarks(layer, { lastMove, check, selected }, flipped) {
  layer.replaceChildren();
  for (const sq of lastMove || []) {
    const [x, y] = xy(sq, flipped);
    el("rect", { x: x - 29, y: y - 29, width: 58, height: 58, rx: 6, class: "last-move" }, layer);
  }
  if (check !== null) {
    const [x, y] = xy(check, flipped);
    el("circle", { cx: x, cy: y, r: RADIUS + 9, class: "check" }, layer);
  }
  if (selected !== null) {
    const [x, y] = xy(selected, flipped);
    el("circle", { cx: x, cy: y, r: RADIUS + 4, class: "selected" }, layer);
  }
}

/** One piece at (x, y); `extra` adds classes such as "lifted" or "ghost". */
export function drawPiece(parent, letter, x, y, extra = "") {
  const g = el("g", {
    class: `piece ${isRed(letter) ? "red" : "black"}${extra ? " " + extra : ""}`,
    transform: `translate(${x} ${y})`,
  }, parent);
  el("circle", { r: RADIUS, class: "disc" }, g);
  el("circle", { r: RADIUS - 4, class: "ring" }, g);
  el("text", { class: "glyph", y: 1 }, g, GLYPHS[letter]);
  return g;
}

export function drawPieces(layer, position, lifted, flipped) {
  layer.replaceChildren();
  position.forEach((letter, sq) => {
    if (!letter) return;
    const [x, y] = xy(sq, flipped);
    drawPiece(layer, letter, x, y, sq === lifted ? "lifted" : "").dataset.square = squareName(sq);
  });
}

/** Where the picked-up piece may go: a dot, or a ring around a piece it would capture. */
export function drawDots(layer, targets, position, flipped) {
  layer.replaceChildren();
  for (const sq of targets) {
    const [x, y] = xy(sq, flipped);
    const capture = position[sq] !== null;
    el("circle", {
      cx: x, cy: y, r: capture ? RADIUS + 2 : 8, class: capture ? "dot capture" : "dot",
      "data-target": squareName(sq),
    }, layer);
  }
}

/** Arrows [{from, to, p}] (squares, probability); the first is the best and drawn apart. */
export function drawArrows(layer, arrows, flipped) {
  layer.replaceChildren();
  arrows.forEach((a, i) => {
    const [xa, ya] = xy(a.from, flipped);
    const [xb, yb] = xy(a.to, flipped);
    const len = Math.hypot(xb - xa, yb - ya) || 1;
    const ux = (xb - xa) / len, uy = (yb - ya) / len;
    const g = el("g", { class: `arrow${i === 0 ? " best" : ""}`, "data-move": squareName(a.from) + squareName(a.to) }, layer);
    el("line", {
      x1: xa + ux * 12, y1: ya + uy * 12, x2: xb - ux * 18, y2: yb - uy * 18,
      "stroke-width": 4 + 10 * a.p, "marker-end": "url(#arrowhead)",
    }, g);
    const lx = xb - ux * 34, ly = yb - uy * 34;
    el("rect", { x: lx - 19, y: ly - 11, width: 38, height: 20, rx: 6, class: "arrow-label" }, g);
    el("text", { x: lx, y: ly, class: "arrow-text" }, g, `${Math.round(a.p * 100)}%`);
  });
}

export function drawCursor(layer, cursor, flipped) {
  layer.replaceChildren();
  if (cursor === null) return;
  const [x, y] = xy(cursor, flipped);
  el("rect", { x: x - 30, y: y - 30, width: 60, height: 60, rx: 8, class: "cursor" }, layer);
}

/** The FEN placement of `squares` (90 letters or nulls, as parsePlacement gives). */
export function placementOf(squares) {
  const rows = [];
  for (let rank = 9; rank >= 0; rank--) {
    let row = "";
    let empty = 0;
    for (let file = 0; file < 9; file++) {
      const letter = squares[rank * 9 + file];
      if (!letter) empty += 1;
      else {
        row += (empty || "") + letter;
        empty = 0;
      }
    }
    rows.push(row + (empty || ""));
  }
  return rows.join("/");
}

/** The placement after `moves` (ICCS, known to be legal) from `fen`: each moves a piece, capturing
 * what stands on its target; no rules are needed. */
export function placementAfter(fen, moves) {
  const squares = parsePlacement(fen);
  for (const m of moves) {
    squares[squareIndex(m.slice(2, 4))] = squares[squareIndex(m.slice(0, 2))];
    squares[squareIndex(m.slice(0, 2))] = null;
  }
  return placementOf(squares);
}
