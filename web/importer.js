// Game record files into the page: drop one anywhere, or pick one. Any format the server reads
// (PGN, XQF, CBR, CBL, CBF, DhtmlXQ) is sent as it is, in base64.

export const MAX_FILE_BYTES = 749_000;  // the server's limit on an imported file

/** The bytes of `file` in base64. */
export function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** Call `onFile(file)` for a file dropped anywhere on the page; `hint` shows while one is dragged over. */
export function acceptDrops(hint, onFile) {
  let depth = 0;  // dragenter/dragleave also fire for every child the pointer crosses
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    hint.hidden = false;
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) hint.hidden = true;
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    hint.hidden = true;
    const file = event.dataTransfer.files[0];
    if (file) onFile(file);
  });
}
