#!/usr/bin/env bash
# Run THERE (GPU box), from the repo root, with .device carried (made by tools/device/pack.sh):
#   bash tools/device/gpu-check.sh            VGG16 on CUDA: rotation/jigsaw/context at 128/256 px
#   bash tools/device/gpu-check.sh --cpu      the same path on CPU, vgg-small, tiny: a dry run here
# For each configuration: a raw PyTorch loop (cxr_torch.bench_raw: same spec, data already on the
# device) then ours (TS samplers in worker threads -> batch stream -> torch engine over the pipe).
# Prints a table of samples/s and ours/raw; the headline ratio is the last line.
set -euo pipefail
MODE=gpu
[[ ${1:-} == --cpu ]] && MODE=cpu
ROOT=$(pwd)
DEV=$ROOT/.device
W=${TMPDIR:-/tmp}/cxr-gpu-check
LOG=${OUT:-$W}/gpu-check.log
mkdir -p "$W" "$(dirname "$LOG")"
T0=$SECONDS
say() { echo "== [$((SECONDS - T0))s] $*" | tee -a "$LOG"; }
[[ -f $DEV/node.xz ]] || { echo "no .device/node.xz: run tools/device/pack.sh here and carry .device" >&2; exit 2; }

# xz may be missing on the box: Python's lzma/tarfile do the same job
PY0=$(command -v python3 || command -v /usr/bin/python3)
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else "$PY0" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi; }
untar_xz() { if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"; else "$PY0" -c 'import sys,tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi; }

say "unpack node, node_modules, dataset cache"
[[ -x $W/node ]] || { unxz_to "$DEV/node.xz" "$W/node.tmp" && chmod +x "$W/node.tmp" && mv "$W/node.tmp" "$W/node"; }
NODE=$W/node
if [[ ! -e node_modules ]]; then
  mkdir -p "$W/nm" && untar_xz "$DEV/node_modules.tar.xz" "$W/nm"
  ln -s "$W/nm/node_modules" node_modules
fi
mkdir -p node_modules/@cxr-ssl
for p in data models train; do [[ -e node_modules/@cxr-ssl/$p ]] || ln -s "$ROOT/packages/$p" "node_modules/@cxr-ssl/$p"; done
[[ -d $W/cache ]] || untar_xz "$DEV/cache.tar.xz" "$W"
"$NODE" --version | tee -a "$LOG"

PY=${CXR_SSL_PYTHON:-}
for c in $PY python3 /usr/bin/python3; do
  if timeout 60 "$c" -c 'import torch' 2>/dev/null; then PY=$c; break; fi
done
export CXR_SSL_PYTHON=$PY PYTHONPATH=$ROOT/packages/train/python PYTHONUNBUFFERED=1
timeout 60 "$PY" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' | tee -a "$LOG"
nproc | sed 's/^/cores /' | tee -a "$LOG"

if [[ $MODE == gpu ]]; then
  ENCODER=vgg16; DEVICE=cuda; WORKERS=${WORKERS:-12}; WARM=5; SECS=12; RAW_WARM=4; RAW_SECS=10; BUDGET=${BUDGET:-230}
  CONFIGS=("rotation 128 128" "rotation 256 64" "jigsaw 128 128" "jigsaw 256 64" "context 128 128")
  [[ -n ${ONLY:-} ]] && IFS=';' read -r -a CONFIGS <<<"$ONLY"  # e.g. ONLY="rotation 128 128;jigsaw 128 128"
else
  ENCODER=vgg-small; DEVICE=cpu; WORKERS=2; WARM=2; SECS=4; RAW_WARM=1; RAW_SECS=3; BUDGET=${BUDGET:-400}
  CONFIGS=("rotation 128 8" "jigsaw 128 4")
fi

say "python unit tests (cxr_torch) on this interpreter"
[[ ${SKIP_UNIT:-0} == 1 ]] || (cd packages/train/python && timeout 150 "$PY" -m unittest discover -s tests 2>&1 | tail -3) | tee -a "$LOG" || say "unit tests FAILED (continuing)"

TSX=("$NODE" --import tsx --import ./tools/device/lite-hooks.mjs)
RES=$W/results; rm -rf "$RES"; mkdir -p "$RES"
i=0
for cfg in "${CONFIGS[@]}"; do
  i=$((i + 1))
  read -r task size batch <<<"$cfg"
  if (( SECONDS - T0 > BUDGET )); then say "time budget spent: skipping $task@$size"; continue; fi
  vp=$(timeout 60 "${TSX[@]}" tools/device/spec.ts "$ENCODER" "$task" "$size" "$W/spec-$task-$size.json")
  say "$task@$size b$batch ($ENCODER, views,patch=$vp): raw PyTorch"
  raw=$(timeout 120 "$PY" -m cxr_torch.bench_raw --spec "$W/spec-$task-$size.json" --shape "$batch,$vp,${vp#*,}" \
      --device "$DEVICE" --warmup-seconds $RAW_WARM --seconds $RAW_SECS --threads 4 | tail -1) || raw='{"samplesPerSec":0}'
  echo "$raw" | tee -a "$LOG"
  say "$task@$size b$batch: ours (samplers x$WORKERS -> pipe -> torch engine)"
  ours=$(timeout 180 "${TSX[@]}" tools/device/gpu-run.ts --cache "$W/cache" --name kermany --size "$size" --task "$task" \
      --encoder "$ENCODER" --batch "$batch" --device "$DEVICE" --workers "$WORKERS" --warmup-seconds $WARM --seconds $SECS | tail -1) \
      || ours='{"samplesPerSec":0}'
  echo "$ours" | tee -a "$LOG"
  printf '{"task":"%s","size":%s,"batch":%s,"raw":%s,"ours":%s}\n' "$task" "$size" "$batch" "$raw" "$ours" > "$RES/$i.json"
done

say "summary ($ENCODER, $DEVICE)"
"$NODE" -e '
  const fs = require("fs"), dir = process.argv[1];
  const files = fs.readdirSync(dir).sort((a, b) => parseInt(a) - parseInt(b));
  const rows = files.map((f) => { const r = JSON.parse(fs.readFileSync(dir + "/" + f, "utf8"));
    return { task: r.task, size: r.size, batch: r.batch, raw: r.raw.samplesPerSec, ours: r.ours.samplesPerSec }; });
  console.log("| task | px | batch | raw samples/s | ours samples/s | ours/raw |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.task} | ${r.size} | ${r.batch} | ${r.raw.toFixed(0)} | ${r.ours.toFixed(0)} | ${(r.ours / r.raw).toFixed(3)} |`);
  const h = rows[0];
  if (h) console.log(`HEADLINE ${h.task}@${h.size} b${h.batch}: ours/raw = ${(h.ours / h.raw).toFixed(3)} (target >= 0.9), ours ${h.ours.toFixed(0)} vs raw ${h.raw.toFixed(0)} samples/s`);
' "$RES" | tee -a "$LOG"
say "done"
