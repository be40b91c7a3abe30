#!/usr/bin/env bash
# A user's check in a new venv: build the cxr-ssl wheel (pip wheel packages/python), install it, and for
# each export folder load the encoder as a PyTorch user would (torchvision's module for resnet18 /
# densenet121, a forward hook on its last block), compare 8 fixture X-rays with the export's ONNX file,
# and load the folder with timm.create_model('local-dir:...') where timm installs. Exit 1 on a mismatch.
#
#   bash packages/python/examples/clean-venv.sh [export dir ...]   # none: a resnet18 and a densenet121 export
#
# torchvision: the venv sees the system's packages when its python3 has torch and torchvision (Debian's
# python3-torch 1.13 + python3-torchvision 0.14; PyPI's torchvision wheels here need a CUDA torch), else it
# is empty and gets torch from pip, and load_encoder returns cxr_ssl's copy of torchvision's network.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=${WORK:-$(mktemp -d)}
PY=${PYTHON:-/usr/bin/python3}
if [ $# -eq 0 ]; then
  (cd "$REPO" && npx tsx packages/python/examples/make-exports.ts "$WORK/exports" 128 2> /dev/null)
  set -- "$WORK/exports/resnet18" "$WORK/exports/densenet121"
fi
EXPORTS=()
for e in "$@"; do EXPORTS+=("$(cd "$e" && pwd)"); done

echo "== wheel"
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$WORK/wheel" "$REPO/packages/python" 2> /dev/null || "$PY" -m pip wheel -q --no-deps -w "$WORK/wheel" "$REPO/packages/python"
WHEEL=$(ls "$WORK"/wheel/cxr_ssl-*.whl)
echo "$WHEEL"

echo "== venv"
if "$PY" -c 'import torch, torchvision' 2> /dev/null; then
  "$PY" -m venv --system-site-packages "$WORK/venv"
  echo "system torch $("$PY" -c 'import torch, torchvision; print(torch.__version__, "+ torchvision", torchvision.__version__)')"
else
  "$PY" -m venv "$WORK/venv"
  echo "no torchvision in $PY: an empty venv, torch from pip"
fi
V="$WORK/venv/bin/python"
"$V" -m pip install -q "$WHEEL[images,onnx]"
if "$V" -m pip install -q timm > "$WORK/timm.log" 2>&1; then echo "timm $("$V" -c 'import timm; print(timm.__version__)' 2>&1 | tail -1)"; else echo "timm: not installable here ($(tail -1 "$WORK/timm.log"))"; fi
cd "$WORK" # outside the repository: the installed wheel is what imports
"$V" -c "import cxr_ssl, torch; print('cxr_ssl', cxr_ssl.__version__, 'from', cxr_ssl.__file__, '; torch', torch.__version__)"

mapfile -t IMAGES < <(ls "$REPO"/fixtures/kermany-mini/test/NORMAL/*.png | head -4; ls "$REPO"/fixtures/kermany-mini/test/PNEUMONIA/*.png | head -4)
status=0
for e in "${EXPORTS[@]}"; do
  echo "== $e"
  "$V" "$REPO/packages/python/examples/embed_and_compare.py" "$e" "${IMAGES[@]}" || status=1
done
exit $status
