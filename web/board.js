// The xiangqi board: shows a position in an SVG and turns clicks, drags and keys into moves.
// It knows no rules and no server (like chessground): the host says which side may move and where
// each of its pieces may go (`movable.dests`), and hears of a move through `onMove(from, to)`.

import {
  CELL, drawArrows, drawCoords, drawCursor, drawDots, drawGrid, drawMarks, drawPiece, drawPieces, el,
  isRed, parsePlacement, squareAt, squareIndex, squareName, xy,
} from "./draw.js";

const PIECE_NAMES = { k: "general", a: "advisor", b: "elephant", n: "horse", r: "chariot", c: "cannon", p: "soldier" };
const DRAG_THRESHOLD = 8;  // SVG units a press must travel to become a drag
const STEPS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };

/** The English words for a square's content: "red cannon", "empty". */
function describeSquare(letter) {
  return letter ? `${isRed(letter) ? "red" : "black"} ${PIECE_NAMES[letter.toLowerCase()]}` : "empty";
}

export class Board {
  /**
   * Draw the grid into `svg` once and listen to its input.
   * `onMove(from, to)` receives ICCS square names ("h2", "e2") after the user moves a piece.
   */
  constructor(svg, onMove) {
    this.svg = svg;
    this.onMove = onMove;
    this.position = new Array(90).fill(null);
    this.flipped = false;
    this.lastMove = null;      // [from, to] squares
    this.check = null;         // the side whose general is in check: "red", "black" or null
    this.arrows = [];          // [{from, to, p}] squares and probabilities
    this.movable = { color: null, dests: new Map() };  // dests: square name -> [square names]
    this.selected = null;      // square of the picked-up piece
    this.cursor = 4;           // keyboard cursor square (e0)
    this.drag = null;          // {from, startX, startY, moved, wasSelected, ghost}
    this.describe = describeSquare;  // (piece letter or null) -> words for the cursor's square
    svg.replaceChildren();
    drawGrid(el("g", { class: "grid" }, svg));
    const layer = (name) => el("g", { class: name }, svg);
    this.layers = {
      coords: layer("coords"), marks: layer("marks"), pieces: layer("pieces"), dots: layer("dots"),
      arrows: layer("arrows"), cursor: layer("cursor-layer"), ghost: layer("ghost-layer"),
    };
    drawCoords(this.layers.coords, this.flipped);
    this.listen();
    this.redraw();
  }

  /**
   * Show a new state; fields left out keep their value.
   * fen: a FEN (only the placement is read); orientation: "red" or "black" at the bottom;
   * lastMove: [from, to] or null; check: the side in check ("red" or "black") or null;
   * arrows: [{from, to, p}]; movable: {color: "red", "black" or null, dests: Map from -> [to]}.
   */
  set({ fen, orientation, lastMove, check, arrows, movable, describe } = {}) {
    if (describe !== undefined) this.describe = describe;
    if (fen !== undefined) {
      this.position = parsePlacement(fen);
      this.selected = null;
    }
    if (orientation !== undefined) this.setFlipped(orientation === "black");
    if (lastMove !== undefined) this.lastMove = lastMove && lastMove.map(squareIndex);
    if (check !== undefined) this.check = check;
    if (arrows !== undefined) this.arrows = arrows.map((a) => ({ from: squareIndex(a.from), to: squareIndex(a.to), p: a.p }));
    if (movable !== undefined) this.movable = movable;
    if (this.selected !== null && !this.isMine(this.selected)) this.selected = null;
    this.redraw();
  }

  toggleOrientation() {
    this.setFlipped(!this.flipped);
    this.redraw();
  }

  setFlipped(flipped) {
    if (flipped === this.flipped) return;
    this.flipped = flipped;
    drawCoords(this.layers.coords, flipped);
  }

  // ------------------------------------------------------------ state

  isMine(sq) {
    const letter = this.position[sq];
    return Boolean(letter) && this.movable.color !== null && isRed(letter) === (this.movable.color === "red");
  }

  targets(from) {
    if (from === null || !this.isMine(from)) return [];
    return (this.movable.dests.get(squareName(from)) || []).map(squareIndex);
  }

  /** A press on a square: pick up one's own piece, or drop the picked-up piece on a legal target. */
  press(sq) {
    if (sq === null || this.movable.color === null) return;
    if (this.selected !== null && this.targets(this.selected).includes(sq)) {
      this.move(this.selected, sq);
      return;
    }
    this.selected = this.isMine(sq) && this.selected !== sq ? sq : null;
    this.redraw();
  }

  /** Show the move at once and hand it to the host, which answers with the next state. */
  move(from, to) {
    this.position[to] = this.position[from];
    this.position[from] = null;
    this.lastMove = [from, to];
    this.check = null;
    this.arrows = [];
    this.selected = null;
    this.movable = { color: null, dests: new Map() };
    this.redraw();
    this.onMove(squareName(from), squareName(to));
  }

  // ------------------------------------------------------------ drawing

  redraw() {
    const { flipped, layers } = this;
    const lifted = this.drag && this.drag.moved ? this.drag.from : null;
    const general = this.check && this.position.indexOf(this.check === "red" ? "K" : "k");
    const check = general === null || general < 0 ? null : general;
    drawMarks(layers.marks, { lastMove: this.lastMove, check, selected: this.selected }, flipped);
    drawPieces(layers.pieces, this.position, lifted, flipped);
    drawDots(layers.dots, this.targets(this.selected), this.position, flipped);
    drawArrows(layers.arrows, this.arrows, flipped);
    this.redrawCursor();
  }

  redrawCursor() {
    drawCursor(this.layers.cursor, document.activeElement === this.svg ? this.cursor : null, this.flipped);
  }

  // ------------------------------------------------------------ input

  listen() {
    const svg = this.svg;
    svg.addEventListener("pointerdown", (event) => this.pointerDown(event));
    svg.addEventListener("pointermove", (event) => this.pointerMove(event));
    svg.addEventListener("pointerup", (event) => this.pointerUp(event));
    svg.addEventListener("pointercancel", () => {
      this.dropGhost();
      this.redraw();
    });
    svg.addEventListener("keydown", (event) => this.keyDown(event));
    svg.addEventListener("focus", () => this.redrawCursor());
    svg.addEventListener("blur", () => this.redrawCursor());
  }

  svgPoint(event) {
    const pt = this.svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    const p = pt.matrixTransform(this.svg.getScreenCTM().inverse());
    return { x: p.x, y: p.y, sq: squareAt(p.x, p.y, this.flipped) };
  }

  pointerDown(event) {
    if (event.button !== 0) return;
    const { sq, x, y } = this.svgPoint(event);
    if (sq === null) return;
    this.cursor = sq;
    if (this.isMine(sq)) {
      const wasSelected = this.selected === sq;
      this.selected = sq;
      this.drag = { from: sq, startX: x, startY: y, moved: false, wasSelected, ghost: null };
      this.svg.setPointerCapture(event.pointerId);
      this.redraw();
    } else {
      this.press(sq);
    }
    event.preventDefault();
  }

  // Only the dragged piece's copy follows the pointer; nothing else is redrawn.
  pointerMove(event) {
    const drag = this.drag;
    if (!drag) return;
    const { x, y } = this.svgPoint(event);
    if (!drag.moved) {
      if (Math.hypot(x - drag.startX, y - drag.startY) <= DRAG_THRESHOLD) return;
      drag.moved = true;
      this.redraw();
      drag.ghost = drawPiece(this.layers.ghost, this.position[drag.from], x, y, "ghost");
    }
    drag.ghost.setAttribute("transform", `translate(${x} ${y})`);
  }

  pointerUp(event) {
    const drag = this.drag;
    if (!drag) return;
    const { sq } = this.svgPoint(event);
    this.dropGhost();
    if (drag.moved && sq !== null && this.targets(drag.from).includes(sq)) {
      this.move(drag.from, sq);
      return;
    }
    if (!drag.moved && drag.wasSelected) this.selected = null;  // a second click puts the piece down
    this.redraw();
  }

  dropGhost() {
    this.drag = null;
    this.layers.ghost.replaceChildren();
  }

  keyDown(event) {
    const step = STEPS[event.key];
    if (step) {
      const [x, y] = xy(this.cursor, this.flipped);
      const next = squareAt(x + step[0] * CELL, y + step[1] * CELL, this.flipped);
      if (next !== null) this.cursor = next;
      this.announceCursor();
      this.redrawCursor();
    } else if (event.key === "Enter" || event.key === " ") {
      this.press(this.cursor);
    } else if (event.key === "Escape") {
      this.selected = null;
      this.redraw();
    } else {
      return;
    }
    event.preventDefault();
  }

  announceCursor() {
    this.svg.setAttribute("aria-label", `${squareName(this.cursor)}: ${this.describe(this.position[this.cursor])}`);
  }
}
