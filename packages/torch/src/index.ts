export { findTorchPython, NO_TORCH, PYTHON_PACKAGE_DIR, pythonCandidates, TORCH_SCHEMA_PATH, type TorchPython, WORKSPACE_VENV_PYTHON } from './python.ts';
