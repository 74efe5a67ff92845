#!/usr/bin/env bash
# Train candidate models side by side on one GPU and keep the best by validation top-1.
# This is how the model sizes in the README were compared on a lent H200:
#
#   scripts/gpu_train.sh OUTDIR [MINUTES]
#
# Needs data/ccpd from `xqgpt data build`. Each candidate is one `xqgpt train` run with
# --time-budget MINUTES (default 6.5), all at once; the winner's best/ directory is copied
# to OUTDIR/best with every run's logs. DEVICE=cpu runs the same thing on a CPU (for tests).
set -euo pipefail
out=${1:?usage: scripts/gpu_train.sh OUTDIR [MINUTES]}
minutes=${2:-6.5}
device=${DEVICE:-cuda}
python=${PYTHON:-python3}
mkdir -p "$out"
common=(--data data/ccpd --device "$device" --seq-len 128 --batch-size 256 --warmup 300
        --lr 1e-3 --min-lr 1e-4 --eval-every 1000 --eval-games 200 --mirror 0.5 --fen-context 0.25
        --save-dtype fp16 --time-budget "$minutes" --threads 4 ${EXTRA_ARGS:-})
declare -A candidates=(
  [l8e512d10]="--n-layer 8 --n-embd 512 --n-head 8 --dropout 0.1"
  [l8e512d20]="--n-layer 8 --n-embd 512 --n-head 8 --dropout 0.2"
  [l8e384d10]="--n-layer 8 --n-embd 384 --n-head 6 --dropout 0.1"
)
pids=()
for name in "${!candidates[@]}"; do
  # shellcheck disable=SC2086
  $python -m xqgpt train "${common[@]}" ${candidates[$name]} --out "$out/runs/$name" \
    >"$out/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
$python - "$out" <<'PY'
import json, shutil, sys
from pathlib import Path
out = Path(sys.argv[1])
scores = {}
for run in sorted((out / "runs").iterdir()):
    best = run / "best" / "config.json"
    if best.is_file():
        scores[run.name] = json.loads(best.read_text())["val"]["top1"]
print("validation top-1 of each run's best checkpoint:", json.dumps(scores))
winner = max(scores, key=scores.get)
shutil.copytree(out / "runs" / winner / "best", out / "best", dirs_exist_ok=True)
(out / "best" / "winner.json").write_text(json.dumps({"winner": winner, "val_top1": scores}, indent=2))
print("winner:", winner)
PY
exit $status
