"""load_encoder(dir): an exported cxr-ssl encoder folder -> (torch module, preprocessing)."""
import json
import os

import torch
import torch.nn.functional as F

from .graph import Encoder
from .normalisation import Normalise
from .safetensors_io import load_safetensors
from .twins import TWINS, headless_torchvision

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


MODULES = ('auto', 'torchvision', 'twin', 'graph')


def build_module(config, module='auto'):
    """The nn.Module for an export, and where it came from. `auto`: torchvision's own network when the
    architecture has a torchvision twin and torchvision imports, else cxr_ssl.twins' copy of it, else (no
    twin: vgg-small, mobilenetv2) the ops graph. `torchvision` / `twin` / `graph` ask for one of them."""
    if module not in MODULES:
        raise ValueError('module=%r: expected one of %s' % (module, ', '.join(MODULES)))
    arch = config.get('torchvision_architecture')
    if module == 'graph' or (module == 'auto' and arch not in TWINS):
        return Encoder(config['encoder_spec']), 'cxr_ssl graph'
    if arch not in TWINS:
        raise ValueError('%s has no torchvision twin (those with one: %s): use module="graph"' % (config['architecture'], ', '.join(TWINS)))
    if module in ('auto', 'torchvision'):
        try:
            return headless_torchvision(arch, config['in_chans'])
        except Exception as e:  # noqa: BLE001 - not installed, or built for another torch: use our copy
            if module == 'torchvision':
                raise RuntimeError('module="torchvision": torchvision does not import here (%s: %s)' % (type(e).__name__, e)) from e
    return TWINS[arch](in_chans=config['in_chans'], num_classes=0), 'cxr_ssl.twins %s' % arch


def load_encoder(folder, device='cpu', module='auto'):
    """Returns (model, preprocess): model an nn.Module in eval mode whose state dict is
    model.safetensors (loaded strictly), taking preprocess's output batched [N, C, S, S] and returning
    the pooled features [N, feature_dim]. For resnet18/50, densenet121 and vgg16(-bn) exports it is
    torchvision's network (or cxr_ssl.twins' copy where torchvision does not import): index it, hook
    it, compile it as such; `model.cxr_ssl_module` says which (see build_module for `module`)."""
    config = read_config(folder)
    model, source = build_module(config, module)
    path = os.path.join(folder, 'model.safetensors')
    state, _ = load_safetensors(path)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RuntimeError('%s does not match the encoder of %s (%s): %s' % (path, os.path.join(folder, 'config.json'), source, e)) from None
    model.cxr_ssl_module = source
    return model.to(device).eval(), Preprocess(config)
