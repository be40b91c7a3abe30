"""torchvision ImageNet weights (.pth) -> canonical safetensors for one of our encoders.

usage: python -m cxr_torch.import_torchvision IN.pth OUT.safetensors < REQUEST.json
REQUEST: {"model": "vgg16_bn", "encoder": <EncoderSpec JSON, e.g. vgg16-bn-torchvision>}

torchvision's names are our canonical names, so the import checks the file against the encoder's
weights by name and shape and keeps them as they are (the first conv keeps its RGB kernel: the
encoder's inputNorm feeds it torchvision's own input scaling). BatchNorm running statistics are
kept; `num_batches_tracked` (never read: momentum is fixed) and the classifier / fc are dropped.
Answers one JSON line on stdout: {"ok": true, "out": ..., "tensors": n, "dropped": [...]}, or
{"ok": false, "error": ...} and exit 1.
"""
import json
import re
import sys
from collections import OrderedDict

import torch
from cxr_ssl.graph import Encoder
from cxr_ssl.safetensors_io import write_safetensors

from cxr_torch.model import canonical_state

HEADS = ('classifier.', 'fc.')


def load_state_dict(path):
    """A state dict from a .pth: torchvision's own files, `{'state_dict': ...}` wrappers, DataParallel prefixes."""
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)  # tensors only: no pickled code runs
    except Exception as err:  # noqa: BLE001 - any failure means the same thing to the user
        raise ValueError('%s: cannot load it as a PyTorch state dict (%s). Save the weights with '
                         'torch.save(model.state_dict(), path).' % (path, err)) from err
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict):
        raise ValueError('%s holds a %s, not a state dict. Save torch.save(model.state_dict(), path).' % (path, type(obj).__name__))
    return OrderedDict((current_name(k[len('module.'):] if k.startswith('module.') else k), v) for k, v in obj.items())


LEGACY_DENSE_LAYER = re.compile(r'^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$')


def current_name(key):
    """torchvision's published densenet .pth files say `...denselayer1.norm.1.weight`; its modules (and
    our encoders) `...denselayer1.norm1.weight`. torchvision renames them on load with this pattern."""
    m = LEGACY_DENSE_LAYER.match(key)
    return m.group(1) + m.group(2) if m else key


def convert(state, source, spec, model):
    """Checks a torchvision `model` state dict against `spec`'s weights; returns (weights, dropped)."""
    expected = OrderedDict((name, tuple(t.shape)) for name, t in canonical_state(Encoder(spec)).items())
    what = 'a torchvision %s state dict (for encoder %s)' % (model, spec['name'])
    out = OrderedDict()
    for name, shape in expected.items():
        if name not in state:
            has_bn = any(k.endswith('.running_mean') for k in state)
            hint = ' It has BatchNorm statistics: a *_bn model?' if has_bn and not any(n.endswith('.running_mean') for n in expected) else ''
            raise ValueError('%s: no %s. Expected %s; its keys start with %s.%s'
                             % (source, name, what, ', '.join(list(state)[:4]), hint))
        t = state[name].detach().float()
        if tuple(t.shape) != shape:
            raise ValueError('%s: %s has shape %s, %s expects %s' % (source, name, list(t.shape), spec['name'], list(shape)))
        out[name] = t.contiguous()
    dropped = [k for k in state if k not in out]
    unexpected = [k for k in dropped if not (k.startswith(HEADS) or k.endswith('.num_batches_tracked'))]
    if unexpected:
        raise ValueError('%s: unexpected weights %s: not %s' % (source, ', '.join(unexpected[:4]), what))
    return out, dropped


def main(argv, request):
    if len(argv) != 2:
        raise ValueError('usage: python -m cxr_torch.import_torchvision IN.pth OUT.safetensors < {"model", "encoder"} JSON')
    src, dst = argv
    spec, model = request['encoder'], request['model']
    weights, dropped = convert(load_state_dict(src), src, spec, model)
    write_safetensors(dst, weights, {'encoder': spec['name'], 'source': 'torchvision %s' % model, 'from': src})
    return {'ok': True, 'out': dst, 'tensors': len(weights), 'dropped': dropped}


if __name__ == '__main__':
    try:
        print(json.dumps(main(sys.argv[1:], json.load(sys.stdin))))
    except Exception as err:  # noqa: BLE001 - reported to TypeScript as a JSON line
        print(json.dumps({'ok': False, 'error': str(err)}))
        sys.exit(1)
