"""Encoders pretrained by cxr-ssl, loaded as torch modules with their preprocessing."""
from .hub import Preprocess, build_module, load_encoder, read_config
from .twins import LAST_BLOCK, TWINS
from .safetensors_io import load_safetensors

__all__ = ['load_encoder', 'build_module', 'Preprocess', 'read_config', 'load_safetensors', 'TWINS', 'LAST_BLOCK']
__version__ = '0.1.0'  # packages/python/pyproject.toml and the npm packages share it (CHANGELOG.md)
