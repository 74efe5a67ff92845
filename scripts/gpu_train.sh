#!/usr/bin/env bash
# Retrain the shipped model on the merged corpus: one command for a lent GPU (15 minutes of one
# H100, the machine's start included). From the repository root:
#
#   scripts/gpu_train.sh OUTDIR [MINUTES]
#
# 1. The dataset: $DATA when it is one already, else built there from $SOURCES (default: CCPD and
#    cchess-games from ../shared/data, copies merged across them before the split).
# 2. The legal moves of its training positions (for --legal-loss), once, on every core.
# 3. The shipped sizes: two 8 x 512 members, one with --legal-loss 1 and one without, side by
#    side on the GPU for MINUTES each (default 6); each run keeps its best checkpoint by
#    validation top-1 (RUN/best).
# 4. The two best checkpoints combined into OUTDIR/model as `xqgpt combine` made model/default,
#    with the legality net in $LEGALITY when given (a directory from `xqgpt train-legality`,
#    which trains on the CPU; model/default holds its net inside the ensemble only). Without one,
#    both models are also compared without their legality nets.
# 5. The clean test split: the test games none of whose copies the shipped model was trained on
#    (scripts/clean_heldout.py; the first source must be CCPD), on which the new and the shipped
#    model are evaluated; OUTDIR/report.json says which is better. Nothing is shipped: copy
#    OUTDIR/model to model/default by hand when it wins.
#
# A dry run on a CPU with a tiny model:
#   DEVICE=cpu SIZE="--n-layer 1 --n-embd 32 --n-head 2" BATCH=8 SOURCES=some/games/ \
#     DATA=/tmp/dry/data scripts/gpu_train.sh /tmp/dry 0.5
set -euo pipefail
out=${1:?usage: scripts/gpu_train.sh OUTDIR [MINUTES]}
minutes=${2:-6}
device=${DEVICE:-cuda}
python=${PYTHON:-python3}
data=${DATA:-data/all}
sources=${SOURCES:-../shared/data/ccpd-dataset.tar.gz ../shared/data/cchess-games.tar.gz}
size=${SIZE:---n-layer 8 --n-embd 512 --n-head 8}
cores=$(nproc)
mkdir -p "$out"
export HF_HUB_OFFLINE=1

echo "== data: $data"
# shellcheck disable=SC2086
[ -f "$data/summary.json" ] || $python -m xqgpt data build $sources --out "$data" --workers "$cores"
$python -c "import sys; from data.dataset import legal_table; legal_table(sys.argv[1], 'train')" "$data"

echo "== training two members for $minutes minutes each on $device"
common=(--data "$data" --device "$device" --seq-len 128 --batch-size "${BATCH:-256}" --warmup 300
        --lr 1e-3 --min-lr 1e-4 --eval-every 1000 --eval-games 200 --mirror 0.5 --fen-context 0.25
        --dropout 0.1 --save-dtype fp16 --time-budget "$minutes" --threads 4 ${EXTRA_ARGS:-})
pids=()
for member in legal_loss plain; do
  extra=()
  [ "$member" = legal_loss ] && extra=(--legal-loss 1)
  # shellcheck disable=SC2086
  $python -m xqgpt train "${common[@]}" $size "${extra[@]}" --out "$out/runs/$member" \
    >"$out/$member.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
tail -n 3 "$out/legal_loss.log" "$out/plain.log"
[ $status = 0 ] || { echo "a training run failed: see $out/*.log"; exit 1; }

echo "== combining the two members"
legality=()
[ -n "${LEGALITY:-}" ] && legality=(--legality "$LEGALITY" --legality-weight 1.0)
$python -m xqgpt combine --member "$out/runs/legal_loss/best" --member "$out/runs/plain/best" \
  "${legality[@]}" --mirror-average --out "$out/model"

echo "== the clean test split, and both models on it"
# shellcheck disable=SC2086
$python scripts/clean_heldout.py $sources --out "$out/clean" --workers "$cores" | tail -n 1 >"$out/clean.json"
no_net=()
[ -n "${LEGALITY:-}" ] || no_net=(--no-legality-net)
$python -m xqgpt eval --pgn "$out/clean/test_clean.pgn" --model "$out/model" --json | tail -n 1 >"$out/new.json"
$python -m xqgpt eval --pgn "$out/clean/test_clean.pgn" "${no_net[@]}" --json | tail -n 1 >"$out/shipped.json"
$python - "$out" <<'PY'
import json, os, sys
from pathlib import Path
out = Path(sys.argv[1])
new, shipped = (json.loads((out / f"{n}.json").read_text()) for n in ("new", "shipped"))
val = {m: json.loads((out / "runs" / m / "best" / "config.json").read_text()).get("val")
       for m in ("legal_loss", "plain")}
keys = ("games", "moves", "top1", "top5", "legal_rate")
report = {"clean_test": json.loads((out / "clean.json").read_text())["test"],
          "new": {k: new[k] for k in keys}, "shipped": {k: shipped[k] for k in keys},
          "legality_net": bool(os.environ.get("LEGALITY")),
          "members_val": val, "new_is_better": new["top1"] > shipped["top1"] and new["top5"] >= shipped["top5"]}
(out / "report.json").write_text(json.dumps(report, indent=2))
print(json.dumps(report))
PY
