"""load_encoder(dir): an exported cxr-ssl encoder folder -> (torch module, preprocessing)."""
import json
import os

import torch
import torch.nn.functional as F

from .graph import Encoder
from .normalisation import Normalise
from .safetensors_io import load_safetensors

SUPPORTED_FORMAT = 1


def read_config(folder):
    path = os.path.join(folder, 'config.json')
    if not os.path.exists(path):
        raise FileNotFoundError('%s not found: give the folder written by `cxr-ssl export` (or a run\'s export/ folder)' % path)
    with open(path, encoding='utf-8') as f:
        config = json.load(f)
    if config.get('format') != SUPPORTED_FORMAT:
        raise ValueError('%s: export format %r, this cxr_ssl reads format %d' % (path, config.get('format'), SUPPORTED_FORMAT))
    return config


class Preprocess:
    """Image -> float tensor [in_chans, S, S] as the encoder was trained: grey, resized to the
    training size, normalised by config.json's `input_normalisation` (the numbers are there)."""

    def __init__(self, config):
        self.size = tuple(config['input_size'])
        self.channels = config['in_chans']
        self.norm = config['input_normalisation']
        self._normalise = Normalise(self.norm)

    def grey(self, image):
        """PIL image, numpy array (HxW or HxWxC, uint8 or uint16) or tensor -> float32 [H, W] on 0..255."""
        if hasattr(image, 'convert') and hasattr(image, 'mode'):  # PIL
            if image.mode in ('I;16', 'I;16B', 'I', 'F'):
                raise ValueError('16-bit PIL image: pass a numpy array scaled to 0..255 (cxr-ssl windows DICOM/16-bit to 8 bits)')
            image = torch.tensor(list(image.convert('L').getdata()), dtype=torch.float32).reshape(image.size[1], image.size[0])
        t = image if isinstance(image, torch.Tensor) else torch.as_tensor(image)
        t = t.to(torch.float32)
        if t.dim() == 3 and t.shape[-1] in (3, 4):  # HxWxC (RGB[A]) -> luma, as PIL's "L"
            t = 0.299 * t[..., 0] + 0.587 * t[..., 1] + 0.114 * t[..., 2]
        elif t.dim() == 3 and t.shape[0] == 1:
            t = t[0]
        if t.dim() != 2:
            raise ValueError('expected a grey or RGB image, got a tensor of shape %s' % (tuple(t.shape),))
        return t

    def __call__(self, image):
        return self.normalise(self.pixels(image))

    def pixels(self, image):
        """Grey pixels at the training size, [1, S, S] float32 on 0..255 (what encoder.onnx takes)."""
        x = self.grey(image)
        if tuple(x.shape) != self.size:
            x = F.interpolate(x[None, None], size=self.size, mode='bilinear', align_corners=False, antialias=True)[0, 0]
            x = x.round().clamp(0, 255)  # the tool trains on uint8 pixels
        return x[None]

    def normalise(self, x):
        """[1, S, S] grey 0..255 -> [in_chans, S, S]."""
        return self._normalise(x)


def load_encoder(folder, device='cpu'):
    """Returns (model, preprocess): model an nn.Module in eval mode whose state dict is
    model.safetensors (loaded strictly), taking preprocess's output batched [N, C, S, S]."""
    config = read_config(folder)
    model = Encoder(config['encoder_spec'])
    path = os.path.join(folder, 'model.safetensors')
    state, _ = load_safetensors(path)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RuntimeError('%s does not match the encoder of %s: %s' % (path, os.path.join(folder, 'config.json'), e)) from None
    return model.to(device).eval(), Preprocess(config)
