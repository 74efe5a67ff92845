// Sounds for a move, a capture and a check: short tones made with WebAudio (no audio files).
// Each sound is switched on or off on its own and remembered per browser; all are off at first.

export const SOUNDS = ["move", "capture", "check"];
const KEY = "xqgpt.sounds";
// Each sound: [frequency Hz, start s, length s] notes, and the oscillator's wave.
const TONES = {
  move: { wave: "triangle", notes: [[520, 0, 0.07]] },
  capture: { wave: "square", notes: [[330, 0, 0.06], [220, 0.06, 0.1]] },
  check: { wave: "sawtooth", notes: [[880, 0, 0.09], [660, 0.11, 0.12]] },
};

const enabled = load();
let context = null;

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return Object.fromEntries(SOUNDS.map((s) => [s, saved[s] === true]));
  } catch {
    return Object.fromEntries(SOUNDS.map((s) => [s, false]));
  }
}

export const isOn = (sound) => enabled[sound];

export function setOn(sound, on) {
  enabled[sound] = on;
  localStorage.setItem(KEY, JSON.stringify(enabled));
}

function pieceCount(fen) {
  return (fen.split(" ")[0].match(/[a-z]/gi) || []).length;
}

/** Which sound a new position calls for: "check", "capture" (fewer pieces than `beforeFen`) or "move". */
export function soundFor(beforeFen, game) {
  if (game.in_check) return "check";
  return pieceCount(game.fen) < pieceCount(beforeFen) ? "capture" : "move";
}

/** Play `sound` if it is switched on; the page records the last one played in `data-sound`. */
export function play(sound) {
  if (!enabled[sound]) return;
  document.body.dataset.sound = sound;
  context = context || new AudioContext();
  const { wave, notes } = TONES[sound];
  const now = context.currentTime;
  for (const [frequency, start, length] of notes) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = wave;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now + start);
    gain.gain.exponentialRampToValueAtTime(0.2, now + start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + start + length);
    osc.connect(gain).connect(context.destination);
    osc.start(now + start);
    osc.stop(now + start + length + 0.02);
  }
}
