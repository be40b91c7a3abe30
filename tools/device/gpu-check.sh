#!/usr/bin/env bash
# Run THERE (GPU box), from the repo root, with .device carried (made by tools/device/pack.sh):
#   bash tools/device/gpu-check.sh               the benchmarks below on CUDA, as many rows as BUDGET allows (~9 minutes)
#   bash tools/device/gpu-check.sh --quick       every method eager on resnet18 at 128 px + 2 rows (~4 minutes)
#   bash tools/device/gpu-check.sh --cpu         the same path on CPU, vgg-small-bn, tiny: a dry run here
#                                                 (--device cpu: the same; --cpu --quick: 2 rows)
#   bash tools/device/gpu-check.sh --reproduce   then configs/kermany-gpu.yaml (pack.sh --cli; Kermany in
#                                                 shared/data, $KERMANY, or the subset of pack.sh --kermany N);
#                                                 results.md/json and plots to $OUT
#   bash tools/device/gpu-check.sh --reproduce --no-bench    the reproduce only
# Benchmarks, each printed as a row of the final table:
#   features   images/s of torch (cxr_torch.extract, CUDA, TF32) vs onnxruntime's CPU provider, same
#              encoder and weights, and their max relative difference
#   render     cxr_torch's renderer unit tests on this device (CUDA against the CPU, and the hand-made cases)
#   train      per method, size and encoder, eager and torch.compile'd, three loops on the same model, loss
#              and batch: raw PyTorch with the views already made (the limit), raw PyTorch making the same
#              augmentations on the GPU itself as a PyTorch user writes them (cxr_torch.bench_raw --augment:
#              cxr_torch.bench_augment), and ours (TS samplers plan in worker threads -> pipe -> the torch
#              engine paints the plans on the GPU, --render auto); ours / raw with augmentations (the
#              target: >= 0.9) and ours / raw
#   real       for the eager rows of the methods in REAL (default from bench-plan.ts real-gpu: the first
#              labelled whole-image task and the first two-view method; '' for none), once per
#              method: a real run (runPretext at its defaults on the cache's own epochs, with held-out passes
#              and checkpoints on their default cadence) of REAL_STEPS steps (default 600, the study's
#              updates per method), samples/s over its loop's time; real / ours (the target: >= 0.9)
#   ddp        ours as a 1-process DDP (--gpus 1) vs the plain engine, same configuration
# Env: BUDGET (s after which no new measurement starts), PLAN ("mode method px batch encoder;...": replaces
#      tools/device/bench-plan.ts, which measures every method of the registry, most wanted first), FROM (the
#      plan's first row to measure, 1-based: a second call continues where BUDGET cut the first),
#      RENDER (ours' --render, default auto), UNIT=all (the whole cxr_torch suite, not only the renderer's),
#      SKIP_UNIT=1, SKIP_FEATURES=1, SKIP_DDP=1 (rows measured already), KERMANY (data folder for --reproduce; 'packed': pack.sh's subset even where a full set is found), REPRO (reproduce configs, space-separated), REPRO_INITS (e.g. 'moco, simclr': those rows only),
#      REPRO_TIMEOUT (s, default 420; never past DEADLINE, default 570 s after the start), REPRO_EPOCHS / REPRO_BATCH (pretext on the packed subset: 30 x 32,
#      ~24 steps per epoch, ~720 updates per task; one checkpoint per epoch, so epochs cost more than steps).
set -euo pipefail
MODE=gpu BENCH=1 REPRO_RUN=0 QUICK=0
while (( $# )); do
  case $1 in
    --cpu) MODE=cpu ;;
    --device) [[ ${2:-} == cpu || ${2:-} == cuda ]] || { echo "--device takes cpu or cuda" >&2; exit 2; }; [[ $2 == cpu ]] && MODE=cpu; shift ;;
    --quick) QUICK=1 ;;
    --reproduce) REPRO_RUN=1 ;;
    --no-bench) BENCH=0 ;;
    *) echo "unknown option $1 (--cpu, --device cpu|cuda, --quick, --reproduce, --no-bench)" >&2; exit 2 ;;
  esac
  shift
done
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
# pack.sh --kermany N: kermany.tar.xz now, kermany.tar from packs made before
KERMANY_TAR=$(ls "$DEV"/kermany.tar.xz "$DEV"/kermany.tar 2>/dev/null | head -1 || true)
untar_any() { if [[ $1 == *.xz ]]; then untar_xz "$1" "$2"; else tar -xf "$1" -C "$2"; fi; }
untar_xz() { if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"; else "$PY0" -c 'import sys,tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi; }

say "unpack node, node_modules, dataset cache"
[[ -x $W/node ]] || { unxz_to "$DEV/node.xz" "$W/node.tmp" && chmod +x "$W/node.tmp" && mv "$W/node.tmp" "$W/node"; }
NODE=$W/node
if [[ ! -e node_modules ]]; then
  [[ -d $W/nm/node_modules ]] || { mkdir -p "$W/nm" && untar_xz "$DEV/node_modules.tar.xz" "$W/nm"; }
  ln -s "$W/nm/node_modules" node_modules
fi
mkdir -p node_modules/@cxr-ssl
for p in atomic data models torch train eval cli; do [[ -e node_modules/@cxr-ssl/$p ]] || ln -s "$ROOT/packages/$p" "node_modules/@cxr-ssl/$p"; done
[[ -d $W/cache || ! -f $DEV/cache.tar.xz ]] || untar_xz "$DEV/cache.tar.xz" "$W"
"$NODE" --version | tee -a "$LOG"

PY=${CXR_SSL_PYTHON:-}
for c in $PY python3 /usr/bin/python3; do
  if timeout 60 "$c" -c 'import torch' 2>/dev/null; then PY=$c; break; fi
done
export CXR_SSL_PYTHON=$PY PYTHONPATH=$ROOT/packages/torch PYTHONUNBUFFERED=1
timeout 60 "$PY" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' | tee -a "$LOG"
nproc | sed 's/^/cores /' | tee -a "$LOG"

if [[ $MODE == gpu ]]; then
  DEVICE=cuda; WORKERS=${WORKERS:-12}; WARM=1.5; SECS=3; RAW_WARM=1; RAW_SECS=2.5; BUDGET=${BUDGET:-$(( QUICK ? 200 : 470 ))}
  REAL_STEPS=${REAL_STEPS:-600}
  FEAT=(--encoder vgg16-bn --size 128 --count 40000 --batch 256 --ort-count 512 --device cuda)
else
  DEVICE=cpu; WORKERS=2; WARM=1; SECS=3; RAW_WARM=1; RAW_SECS=2; BUDGET=${BUDGET:-400}
  REAL_STEPS=${REAL_STEPS:-12}
  FEAT=(--encoder vgg-small-bn --size 128 --count 64 --batch 16 --ort-count 32 --ort-batch 8 --device cpu)
fi

TSX=("$NODE" --import tsx --import ./tools/device/lite-hooks.mjs)
RES=$W/results
bench() {
  if [[ ! -d $W/cache && -n $KERMANY_TAR && -e node_modules/sharp ]]; then
    # no packed cache (pack.sh --kermany N without COUNT): the benchmarks' cache from the Kermany subset
    mkdir -p "$W/kermany" && untar_any "$KERMANY_TAR" "$W/kermany"
    say "benchmark cache: prepare the packed Kermany subset at 128, 224, 256 px"
    timeout 180 "$NODE" packages/cli/bin/cxr-ssl.mjs prepare --source "$W/kermany/kermany-pneumonia-224" --adapter folder --name kermany \
      --sizes 128,224,256 --cache-dir "$W/cache" --quiet 2>&1 | tail -3 | tee -a "$LOG" || true
  fi
  [[ -d $W/cache ]] || { say "no dataset cache: the benchmarks need .device from tools/device/pack.sh"; return; }
  rm -rf "$RES"; mkdir -p "$RES"
  if [[ ${SKIP_UNIT:-0} == 1 ]]; then say "python unit tests: skipped (SKIP_UNIT=1)"; else
    local tests=tests.test_render
    [[ ${UNIT:-} == all ]] && tests='discover -s tests'
    say "python unit tests (cxr_torch: $tests) on this interpreter and device"
    # shellcheck disable=SC2086
    (cd packages/torch && timeout 180 "$PY" -m unittest $tests 2>&1 | tail -3) | tee -a "$LOG" | tee "$RES/unit.txt" || say "unit tests FAILED (continuing)"
  fi

  if [[ ${SKIP_FEATURES:-0} == 1 ]]; then say "features: skipped (SKIP_FEATURES=1)"; else
    say "features: torch vs onnxruntime CPU (${FEAT[*]})"
    timeout 240 "${TSX[@]}" tools/device/features-run.ts --cache "$W/cache" --name kermany "${FEAT[@]}" 2>&1 | tail -1 | tee "$RES/features.json" | tee -a "$LOG" || true
  fi

  # the measurements, most wanted first, from the method registry (tools/device/bench-plan.ts);
  # PLAN="mode method px batch encoder;..." replaces it
  local -a plan
  local which=$MODE
  (( QUICK )) && which=$([[ $MODE == cpu ]] && echo cpu-quick || echo quick)
  if [[ -n ${PLAN:-} ]]; then IFS=';' read -r -a plan <<<"$PLAN"; else mapfile -t plan < <(timeout 60 "${TSX[@]}" tools/device/bench-plan.ts "$which"); fi
  say "plan: ${#plan[@]} rows ($which), from row ${FROM:-1}, measurements start until ${BUDGET} s"
  # REAL unset: the methods bench-plan.ts picks from the registry; REAL='' for none
  [[ -v REAL ]] || REAL=$(timeout 60 "${TSX[@]}" tools/device/bench-plan.ts "real-$MODE" | tr '\n' ' ')
  say "real runs beside the first eager row of: ${REAL:-none} ($REAL_STEPS steps)"
  i=0
  local real_done=''
  for line in "${plan[@]}"; do
    [[ -n $line ]] || continue
    i=$((i + 1))
    read -r mode task size batch encoder <<<"$line"
    local row='{"kind":"train","mode":"%s","task":"%s","size":%s,"batch":%s,"encoder":"%s"'
    if (( i < ${FROM:-1} )); then continue; fi
    if (( SECONDS - T0 > BUDGET )); then
      # shellcheck disable=SC2059
      printf "$row"',"skipped":"time budget (BUDGET=%s s): run again with FROM=%s"}\n' "$mode" "$task" "$size" "$batch" "$encoder" "$BUDGET" "$i" > "$RES/train-$i.json"
      continue
    fi
    local -a flag=()
    [[ $mode == compiled ]] && flag=(--compile)
    vp=$(timeout 60 "${TSX[@]}" tools/device/spec.ts "$encoder" "$task" "$size" "$W/spec-$i.json")
    say "$mode $task@$size b$batch ($encoder, views,patch=$vp): raw PyTorch, then raw PyTorch augmenting on the $DEVICE"
    raw=$(timeout 240 "$PY" -m cxr_torch.bench_raw --spec "$W/spec-$i.json" --batch "$batch" --augment "${flag[@]}" \
        --device "$DEVICE" --warmup-seconds $RAW_WARM --seconds $RAW_SECS --threads 4 | tail -1) || raw='{"samplesPerSec":0}'
    echo "$raw" | tee -a "$LOG"
    say "$mode $task@$size b$batch: ours (samplers x$WORKERS plan -> pipe -> torch engine, --render ${RENDER:-auto})"
    ours=$(timeout 240 "${TSX[@]}" tools/device/gpu-run.ts --cache "$W/cache" --name kermany --size "$size" --task "$task" "${flag[@]}" \
        --encoder "$encoder" --batch "$batch" --device "$DEVICE" --workers "$WORKERS" --warmup-seconds $WARM --seconds $SECS \
        --render "${RENDER:-auto}" | tail -1) || ours='{"samplesPerSec":0}'
    echo "$ours" | tee -a "$LOG"
    local real=null
    if [[ $mode == eager && " $REAL " == *" $task "* && " $real_done " != *" $task "* ]]; then
      real_done="$real_done $task"
      say "$mode $task@$size b$batch: a real run (runPretext at its defaults on the cache's epochs, $REAL_STEPS steps)"
      real=$(timeout 300 "${TSX[@]}" tools/device/gpu-run.ts --cache "$W/cache" --name kermany --size "$size" --task "$task" \
          --encoder "$encoder" --batch "$batch" --device "$DEVICE" --workers "$WORKERS" --render "${RENDER:-auto}" --real-steps "$REAL_STEPS" | tail -1) \
          || real='{"samplesPerSec":0}'
      echo "$real" | tee -a "$LOG"
    fi
    # shellcheck disable=SC2059
    printf "$row"',"raw":%s,"ours":%s,"real":%s}\n' "$mode" "$task" "$size" "$batch" "$encoder" "$raw" "$ours" "$real" > "$RES/train-$i.json"
  done

  read -r _ task size batch encoder <<<"${plan[0]}"
  if [[ ${SKIP_DDP:-0} == 1 ]]; then say "ddp: skipped (SKIP_DDP=1)"
  elif (( SECONDS - T0 > BUDGET + 60 )); then say "time budget spent: skipping DDP"; else
    say "ddp: ours as a 1-process DDP (--gpus 1), $task@$size b$batch eager"
    ddp=$(timeout 180 "${TSX[@]}" tools/device/gpu-run.ts --cache "$W/cache" --name kermany --size "$size" --task "$task" --gpus 1 \
        --encoder "$encoder" --batch "$batch" --device "$DEVICE" --workers "$WORKERS" --warmup-seconds $WARM --seconds $SECS | tail -1) \
        || ddp='{"samplesPerSec":0}'
    echo "$ddp" | tee -a "$LOG"
    printf '{"kind":"ddp","task":"%s","size":%s,"batch":%s,"encoder":"%s","ddp":%s}\n' "$task" "$size" "$batch" "$encoder" "$ddp" > "$RES/ddp.json"
  fi

  say "summary ($DEVICE)"
  "$NODE" tools/device/summary.mjs "$RES" | tee -a "$LOG" | tee "${OUT:-$W}/gpu-check-table.md"
  [[ -z ${OUT:-} ]] || tar -C "$W" -czf "$OUT/bench-results.tar.gz" results
}

reproduce() {
  local data=${KERMANY:-} subset=0
  [[ $data == packed ]] && data=''   # KERMANY=packed: the subset pack.sh carried, even where a full set is found
  for c in "$data" $([[ ${KERMANY:-} == packed ]] || echo "$ROOT/shared/data/kermany-pneumonia-224 $ROOT/../shared/data/kermany-pneumonia-224"); do
    if [[ -n $c && -d $c/train ]]; then data=$(cd "$c" && pwd); break; fi
  done
  if [[ ( -z $data || ! -d $data/train ) && -n $KERMANY_TAR ]]; then
    # the subset pack.sh --kermany N made: fewer train images, so more epochs for as many updates
    rm -rf "$W/kermany" && mkdir -p "$W/kermany" && untar_any "$KERMANY_TAR" "$W/kermany"
    data=$W/kermany/kermany-pneumonia-224 subset=1
  fi
  if [[ -z $data || ! -d $data/train ]]; then say "reproduce: no Kermany folder (shared/data/kermany-pneumonia-224, or set KERMANY): skipped"; return; fi
  [[ -e node_modules/sharp && -e node_modules/vega ]] || { say "reproduce: the pack has no CLI dependencies (run tools/device/pack.sh --cli): skipped"; return; }
  for cfg in ${REPRO:-configs/kermany-gpu.yaml}; do
    local name out
    name=$(basename "$cfg" .yaml)
    out=$W/runs/$name
    # the same config with this box's paths: the data found above, the run folder under $W
    sed -e "s|^out: .*|out: $out|" -e "s|^  source: .*|  source: $data|" "$cfg" > "$W/$name.yaml"
    [[ -z ${REPRO_INITS:-} ]] || sed -i "s|^inits: .*|inits: [${REPRO_INITS}]   # REPRO_INITS (gpu-check.sh)|" "$W/$name.yaml"
    if (( subset )); then
      sed -i -e "s|^  epochs: 30 .*|  epochs: ${REPRO_EPOCHS:-30}   # the packed subset (gpu-check.sh)|" -e "s|^  batchSize: 128|  batchSize: ${REPRO_BATCH:-32}|" "$W/$name.yaml"
      say "reproduce on the packed Kermany subset ($(find "$data/train" -type f | wc -l) train images): pretext epochs ${REPRO_EPOCHS:-30}, batch ${REPRO_BATCH:-32}"
    fi
    say "reproduce $cfg (data $data, out $out)"
    local t=$SECONDS
    local left=$(( ${DEADLINE:-570} - (SECONDS - T0) )) limit=${REPRO_TIMEOUT:-420}
    (( left < limit )) && limit=$left
    (( limit > 30 )) || { say "reproduce $name: no time left before DEADLINE: skipped"; continue; }
    say "reproduce $name: at most $limit s"
    if timeout "$limit" "$NODE" packages/cli/bin/cxr-ssl.mjs reproduce --config "$W/$name.yaml" --quiet > "$W/$name.stdout" 2> "$W/$name.stderr"; then
      say "reproduce $name finished in $((SECONDS - t)) s"
    else
      say "reproduce $name FAILED or timed out after $((SECONDS - t)) s; last stderr lines:"; tail -15 "$W/$name.stderr" | tee -a "$LOG"
    fi
    if [[ -n ${OUT:-} ]]; then
      # one file back (the device returns at most 8): results, plots, the config as run, stderr, the
      # wall time and every run's metrics.jsonl/config.json (the pretext curves), no weights
      echo "$((SECONDS - t))" > "$W/$name.wall-seconds"
      cp "$W/$name.yaml" "$W/$name.stderr" "$W/$name.wall-seconds" "$out/" 2>/dev/null || true
      tar -C "$(dirname "$out")" -czf "$OUT/$name.tar.gz" --exclude='*.onnx' --exclude='*.safetensors' \
        --exclude='*.pt' --exclude='checkpoints' --exclude='*.f32' --exclude="$name/cache" "$name" || true
    fi
    [[ -f $out/results.md ]] && tail -40 "$out/results.md"
  done
}

(( BENCH )) && bench
(( REPRO_RUN )) && reproduce
say "done"
