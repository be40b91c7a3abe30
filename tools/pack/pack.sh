#!/usr/bin/env bash
# cxr-ssl as npm packages: packs the CLI and the workspace packages it runs on (atomic, data, models,
# torch, train, eval, cli; each one tarball, its package.json `files`) into dist/pack/, then with
# --install puts them into an empty folder, as a user would, and runs the demo there:
#
#   bash tools/pack/pack.sh             # dist/pack/cxr-ssl-*.tgz
#   bash tools/pack/pack.sh --install   # + npm install of the tarballs in a new folder, npx cxr-ssl demo --steps 2
#
# The sources travel as TypeScript (the CLI's bin runs them through tsx, a dependency), the bundled
# fixture inside @cxr-ssl/data, and the Python graph (packages/python/cxr_ssl) inside @cxr-ssl/torch,
# where its engine looks first. Third-party dependencies come from the npm registry; publishing is a
# maintainer's step (npm publish of each tarball, private: false), not this script's.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$REPO/dist/pack}
PACKAGES=(atomic data models torch train eval cli)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
for p in "${PACKAGES[@]}"; do
  tar -C "$REPO/packages" --exclude=node_modules --exclude=__pycache__ -cf - "$p" | tar -C "$STAGE" -xf -
done
mkdir -p "$STAGE/data/fixtures" "$STAGE/torch/python"
cp -r "$REPO/fixtures/kermany-mini" "$STAGE/data/fixtures/"
tar -C "$REPO/packages/python" --exclude=__pycache__ -cf - cxr_ssl | tar -C "$STAGE/torch/python" -xf -
for p in "${PACKAGES[@]}"; do
  (cd "$STAGE/$p" && npm pack --silent --pack-destination "$OUT" > /dev/null)
done
ls -l "$OUT"
[ "${1:-}" = "--install" ] || exit 0

DIR=${INSTALL_DIR:-$(mktemp -d)}
cd "$DIR"
echo "installing into the empty folder $DIR"
npm init -y > /dev/null
cp "$REPO/.npmrc" . # onnxruntime-node: the CPU provider only (its CUDA download needs more than the npm registry)
start=$(date +%s)
npm install --no-audit --no-fund "$OUT"/*.tgz
echo "npm install: $(( $(date +%s) - start )) s, node_modules $(du -sh node_modules | cut -f1)"
start=$(date +%s)
npx cxr-ssl demo --steps 2
echo "demo --steps 2: $(( $(date +%s) - start )) s in $DIR"
