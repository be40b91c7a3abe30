"""Encoders pretrained by cxr-ssl, loaded as torch modules with their preprocessing."""
from .hub import Preprocess, load_encoder, read_config
from .safetensors_io import load_safetensors

__all__ = ['load_encoder', 'Preprocess', 'read_config', 'load_safetensors']
__version__ = '0.1.0'
