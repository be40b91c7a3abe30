"""Checks an exported encoder folder from the outside, as a user would (run by
packages/train/src/export/hub.test.ts, and by hand):

    python tests/check_export.py <export dir> <images.u8> <n> <onnx features.f32>

images.u8: n grey images of the export's input size, row-major uint8; features: what the ONNX
encoder gave for them (float32 [n, F]). Prints one JSON line: the largest |difference| between
load_encoder's output and ONNX's, and whether model.safetensors loads strictly into torchvision's
own module of that architecture (or why that was skipped)."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from cxr_ssl import load_encoder, load_safetensors  # noqa: E402


def torchvision_module(config):
    """torchvision's module of the export's architecture with its classifier taken off (the state
    dict is the encoder's), its first conv one channel when the export takes one; None if absent."""
    try:
        import torchvision
    except ImportError as e:
        return None, 'torchvision is not installed (%s)' % e
    arch, chans = config['torchvision_architecture'], config['in_chans']
    if arch is None:
        return None, '%s has no torchvision counterpart' % config['architecture']
    m = getattr(torchvision.models, arch)()
    if arch.startswith('resnet'):
        if chans != 3:
            m.conv1 = torch.nn.Conv2d(chans, 64, 7, 2, 3, bias=False)
        m.fc = torch.nn.Identity()
        pool = lambda x: m(x)  # noqa: E731  avgpool + flatten = our global average pool
    else:
        if chans != 3:
            m.features[0] = torch.nn.Conv2d(chans, 64, 3, padding=1)
        m.avgpool, m.classifier = torch.nn.Identity(), torch.nn.Identity()
        pool = lambda x: m.features(x).mean(dim=(2, 3))  # noqa: E731
    return (m, pool), 'torchvision %s' % torchvision.__version__


def main():
    folder, images_path, n, features_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model, preprocess = load_encoder(folder)
    size = preprocess.size
    raw = torch.frombuffer(bytearray(open(images_path, 'rb').read()), dtype=torch.uint8).reshape(n, size[0], size[1])
    x = torch.stack([preprocess(raw[i]) for i in range(n)])
    with torch.no_grad():
        ours = model(x)
    onnx = torch.frombuffer(bytearray(open(features_path, 'rb').read()), dtype=torch.float32).reshape(n, -1)
    out = {'shape': list(ours.shape), 'max_abs_diff_onnx': (ours - onnx).abs().max().item(),
           'max_abs_onnx': onnx.abs().max().item(), 'torch': torch.__version__}
    config = json.load(open(os.path.join(folder, 'config.json')))
    tv, why = torchvision_module(config)
    out['torchvision'] = why
    if tv is not None:
        m, pool = tv
        state, _ = load_safetensors(os.path.join(folder, 'model.safetensors'))
        m.load_state_dict(state, strict=True)  # raises on any missing or unexpected key
        m.eval()
        with torch.no_grad():
            out['max_abs_diff_torchvision'] = (pool(x) - onnx).abs().max().item()
        out['strict'] = True
    print(json.dumps(out))


if __name__ == '__main__':
    main()
