"""torchvision VGG16 ImageNet weights (.pth) -> canonical grey safetensors for the `vgg16` encoder.

usage: python -m cxr_torch.import_torchvision IN.pth OUT.safetensors

Keeps `features.N.weight/bias` (torchvision's names are already our canonical names), sums
features.0.weight over its RGB input channels (conv is linear in its input, so this equals feeding
the grey image replicated to RGB), and drops the classifier. Answers one JSON line on stdout:
{"ok": true, "out": ..., "tensors": 26, "dropped": [...]}, or {"ok": false, "error": ...} and exit 1.
"""
import json
import sys
from collections import OrderedDict

import torch

from cxr_torch.safetensors_io import write_safetensors

# torchvision.models.vgg16().features: conv index -> (in, out) channels, 3x3 kernels.
VGG16_CONVS = OrderedDict(zip(
    [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
    [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
     (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]))


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
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v) for k, v in obj.items())


def convert(state, source):
    out = OrderedDict()
    for index, (cin, cout) in VGG16_CONVS.items():
        for param, shape in (('weight', (cout, cin, 3, 3)), ('bias', (cout,))):
            name = 'features.%d.%s' % (index, param)
            if name not in state:
                raise ValueError('%s: no %s. Expected a torchvision vgg16 state dict (not vgg16_bn or another model); '
                                 'its keys start with %s' % (source, name, ', '.join(list(state)[:4])))
            t = state[name].detach().float()
            if tuple(t.shape) != shape:
                raise ValueError('%s: %s has shape %s, vgg16 expects %s' % (source, name, list(t.shape), list(shape)))
            out[name] = t
    out['features.0.weight'] = out['features.0.weight'].sum(dim=1, keepdim=True)
    dropped = [k for k in state if k not in out]
    unexpected = [k for k in dropped if not k.startswith('classifier.')]
    if unexpected:
        raise ValueError('%s: unexpected weights %s: not a plain torchvision vgg16 state dict' % (source, ', '.join(unexpected[:4])))
    return out, dropped


def main(argv):
    if len(argv) != 2:
        raise ValueError('usage: python -m cxr_torch.import_torchvision IN.pth OUT.safetensors')
    src, dst = argv
    weights, dropped = convert(load_state_dict(src), src)
    write_safetensors(dst, weights, {'source': 'torchvision vgg16', 'from': src, 'grey': 'features.0 summed over RGB'})
    return {'ok': True, 'out': dst, 'tensors': len(weights), 'dropped': dropped}


if __name__ == '__main__':
    try:
        print(json.dumps(main(sys.argv[1:])))
    except Exception as err:  # noqa: BLE001 - reported to TypeScript as a JSON line
        print(json.dumps({'ok': False, 'error': str(err)}))
        sys.exit(1)
