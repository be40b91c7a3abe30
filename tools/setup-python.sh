#!/usr/bin/env bash
# Makes a Python that can `import torch` available for the torch engine and prints its path on stdout.
# The CLI, the tests and CI look for it in the same order (packages/train/src/engines/python.ts):
#   --python, $CXR_SSL_PYTHON, <workspace>/.venv-torch, /usr/bin/python3, python3
# so the Python this script makes is found without any flag.
#  1. one of those already has torch: nothing to install
#  2. pip resolves torch + numpy from a package index (probed once, no retries): a venv at .venv-torch
#  3. Debian/Ubuntu: apt-get install python3-torch python3-numpy (CPU build, for /usr/bin/python3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv-torch
has_torch() { "$1" -c 'import torch' >/dev/null 2>&1; }
# An unreachable index must cost seconds, not pip's default minutes of retries.
PIP_FAST=(--retries 0 --timeout 15 --disable-pip-version-check)

for py in ${CXR_SSL_PYTHON:-} "$VENV/bin/python" /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null && has_torch "$py"; then
    echo "torch found: $("$py" -c 'import sys, torch; print(sys.executable, "torch", torch.__version__)')" >&2
    "$py" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

# pip's answer to "could you install torch and numpy?" without installing anything: one attempt
# per configured index (default, extra-index-url, find-links), so a dead index fails fast.
if command -v python3 >/dev/null && python3 -m venv --help >/dev/null 2>&1 &&
  python3 -m pip install --dry-run --ignore-installed --quiet "${PIP_FAST[@]}" torch numpy >/dev/null 2>&1; then
  echo "pip can reach torch: creating $VENV" >&2
  if python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install "${PIP_FAST[@]}" torch numpy >&2 &&
    has_torch "$VENV/bin/python"; then
    echo "$VENV/bin/python"
    exit 0
  fi
  echo "pip install into $VENV failed; removing it" >&2
  rm -rf "$VENV"
else
  echo "pip cannot resolve torch + numpy from any package index" >&2
fi

if command -v apt-get >/dev/null; then
  echo "installing Debian's python3-torch (CPU) for /usr/bin/python3" >&2
  SUDO=
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update >&2 || echo "apt-get update failed: trying the package lists already here" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch python3-numpy >&2
  if has_torch /usr/bin/python3; then
    echo /usr/bin/python3
    exit 0
  fi
fi

echo "could not make a Python with torch available: install PyTorch (https://pytorch.org) and pass --python <path> or set CXR_SSL_PYTHON" >&2
exit 1
