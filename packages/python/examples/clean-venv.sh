#!/usr/bin/env bash
# A user's check, in a clean venv: install the cxr-ssl Python package from this repository, load an
# exported encoder, embed 8 fixture X-rays and compare with the encoder's ONNX file (exit 1 if
# they differ by more than 1e-4).   bash packages/python/examples/clean-venv.sh <export dir>
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
EXPORT=$(cd "${1:?give an export folder: a run\'s export/ or cxr-ssl export <run> --out <dir>}" && pwd)
VENV=${VENV:-$(mktemp -d)/venv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "$REPO/packages/python[images,onnx]"
cd "$(dirname "$VENV")" # outside the repository: the installed package is what imports
"$VENV/bin/python" -c "import cxr_ssl, torch; print('cxr_ssl', cxr_ssl.__version__, 'from', cxr_ssl.__file__, '; torch', torch.__version__)"
mapfile -t IMAGES < <(ls "$REPO"/fixtures/kermany-mini/test/NORMAL/*.png | head -4; ls "$REPO"/fixtures/kermany-mini/test/PNEUMONIA/*.png | head -4)
"$VENV/bin/python" "$REPO/packages/python/examples/embed_and_compare.py" "$EXPORT" "${IMAGES[@]}"
