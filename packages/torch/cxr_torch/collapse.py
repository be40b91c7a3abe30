"""Has a projector head collapsed? `python -m cxr_torch.collapse <dir>` (eval's measureCollapse writes
<dir>: spec.json, weights.safetensors, x.u8 = N held-out images, size x size) prints, per output (the encoder's
features, then each part of the head's output: each emitted value and the last layer's, e.g. BYOL's
projection and prediction, DINO's prototype cosines), its statistics over the images, then one JSON line
of them. BatchNorm in eval mode, no augmentation."""
import json
import os
import sys

import numpy as np
import torch

from .model import PretextNet
from cxr_ssl.safetensors_io import read_safetensors


def stats(z):
    """mean pairwise cosine and effective rank (exp of the entropy of the normalised singular values of
    the centred rows: ~1 when every image gives the same output), the sd of each output over the images
    and of each image's outputs (logits that vary less than a softmax temperature give a flat
    distribution: DINO's uniform collapse)."""
    z = z.double()
    s = torch.linalg.svdvals(z - z.mean(0))
    p = s / s.sum()
    rank = torch.exp(-(p * torch.log(p.clamp_min(1e-30))).sum()).item()
    zn = torch.nn.functional.normalize(z, dim=1)
    off = ~torch.eye(len(z), dtype=torch.bool)
    cos = (zn @ zn.T)[off].mean().item()
    return {'dim': z.shape[1], 'cosine': cos, 'rank': rank, 'sdImages': z.std(0).mean().item(), 'sdOutputs': z.std(1).mean().item()}


def main(d):
    spec = json.load(open(os.path.join(d, 'spec.json')))
    weights = read_safetensors(os.path.join(d, 'weights.safetensors'))
    model = PretextNet(spec['encoder'], spec['head'])
    own = {k: v for k, v in weights.items() if not k.startswith(('key.', 'loss.'))}
    model.load_state_dict(own, strict=False)
    missing = [n for n, _ in model.state_dict().items() if n not in own and not n.endswith('num_batches_tracked')]
    if missing:
        raise SystemExit('weights lack %s: the checkpoint was trained with another head' % missing[:4])
    size = spec['size']
    x = torch.from_numpy(np.fromfile(os.path.join(d, 'x.u8'), dtype=np.uint8).reshape(-1, 1, size, size).copy())
    model.eval()
    with torch.no_grad():
        f = model.encode(x)
        out = model.head_out(f)[:, 0]
    report = {'encoder': stats(f[:, 0]), 'head': []}
    start = 0
    for width in model.out_parts:
        report['head'].append(stats(out[:, start:start + width]))
        start += width
    print(f'{spec["label"]}: {len(x)} held-out X-rays')
    rows = [('encoder', report['encoder'])] + [('head part %d' % i, r) for i, r in enumerate(report['head'])]
    for name, r in rows:
        print(f'  {name:<12} dim {r["dim"]:>4}  mean pairwise cosine {r["cosine"]:.4f}  effective rank {r["rank"]:6.2f}  '
              f'sd over images {r["sdImages"]:.4g}  sd over outputs {r["sdOutputs"]:.4g}')
    print(json.dumps(report))


if __name__ == '__main__':
    main(sys.argv[1])
