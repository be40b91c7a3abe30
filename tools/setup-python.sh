#!/usr/bin/env bash
# Makes a Python that can `import torch` available for the torch engine and prints its path
# (use it as --python <path> or CXR_SSL_PYTHON=<path>).
#  1. an interpreter that already has torch: $CXR_SSL_PYTHON, /usr/bin/python3, python3
#  2. pip + a reachable package index: a venv at .venv-torch with torch (+ numpy)
#  3. Debian/Ubuntu: apt-get install -y python3-torch python3-numpy (CPU build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
has_torch() { "$1" -c 'import torch' >/dev/null 2>&1; }

for py in ${CXR_SSL_PYTHON:-} /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null && has_torch "$py"; then
    echo "torch found: $("$py" -c 'import sys, torch; print(sys.executable, "torch", torch.__version__)')" >&2
    "$py" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

VENV=$ROOT/.venv-torch
if command -v python3 >/dev/null && python3 -m venv --help >/dev/null 2>&1 &&
  timeout 20 python3 -m pip download --no-deps --dest /tmp/cxr-ssl-pip-probe six >/dev/null 2>&1; then
  echo "creating $VENV and installing torch with pip" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --upgrade pip >&2
  "$VENV/bin/python" -m pip install torch numpy >&2
  if has_torch "$VENV/bin/python"; then echo "$VENV/bin/python"; exit 0; fi
fi

if command -v apt-get >/dev/null; then
  echo "no package index for pip: installing Debian's python3-torch (CPU)" >&2
  SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update >&2
  $SUDO apt-get install -y python3-torch python3-numpy >&2
  if has_torch /usr/bin/python3; then echo /usr/bin/python3; exit 0; fi
fi

echo "could not make a Python with torch available: install PyTorch (https://pytorch.org) and set CXR_SSL_PYTHON" >&2
exit 1
