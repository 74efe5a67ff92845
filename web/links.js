// Shareable addresses: a saved game is /#game=ID, a position is /?fen=FEN (it opens unsaved, with
// the side to move as yours, and is saved as a new game from the first move).

/** The address of saved game `id`. */
export function gameLink(id) {
  return `${location.origin}${location.pathname}#game=${id}`;
}

/** The address of the position `fen`. */
export function positionLink(fen) {
  return `${location.origin}${location.pathname}?fen=${encodeURIComponent(fen)}`;
}

/** The game id in the address (#game=ID), or null. */
export function linkedGame() {
  const m = location.hash.match(/game=([A-Za-z0-9_-]+)/);
  return m ? m[1] : null;
}

/** The FEN in the address (?fen=…), or null. */
export function linkedFen() {
  return new URLSearchParams(location.search).get("fen");
}

/** Put `text` on the clipboard; false when the browser does not allow it. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
