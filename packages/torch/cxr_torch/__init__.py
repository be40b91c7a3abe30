"""PyTorch side of the cxr-ssl torch engine: knows nothing TypeScript does not tell it.

Its graph interpreter, input normalisation and safetensors reader are the user package's
(packages/python/cxr_ssl), which must install and work without the engine. The engine is never
installed in Python: it runs from the repository (or an installed @cxr-ssl/torch npm package, which
carries its copy of cxr_ssl in python/: tools/pack/pack.sh), so this puts that cxr_ssl first on the path.
Every way the engine starts (the server and its DDP ranks, extract, collapse, import_torchvision,
bench_raw, tools/probe, the unittest runner, tools/device/gpu-check.sh) imports this package first,
and so runs the very code load_encoder runs, whatever cxr_ssl a venv may also have installed."""
import os
import sys

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BUNDLED = os.path.join(_PACKAGE, 'python')  # the npm package's copy
USER_PACKAGE_DIR = _BUNDLED if os.path.isdir(os.path.join(_BUNDLED, 'cxr_ssl')) else os.path.join(os.path.dirname(_PACKAGE), 'python')
if USER_PACKAGE_DIR not in sys.path:
    sys.path.insert(0, USER_PACKAGE_DIR)
