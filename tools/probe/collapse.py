"""collapse.ts's measurement: <dir>/spec.json, weights.safetensors, x.u8 (N images, size x size)."""
import json
import os
import sys

import numpy as np
import torch
from cxr_torch.model import PretextNet
from cxr_torch.safetensors_io import read_safetensors


def report(name, z):
    z = z.double()
    s = torch.linalg.svdvals(z - z.mean(0))
    p = s / s.sum()
    rank = torch.exp(-(p * torch.log(p.clamp_min(1e-30))).sum()).item()
    zn = torch.nn.functional.normalize(z, dim=1)
    off = ~torch.eye(len(z), dtype=torch.bool)
    cos = (zn @ zn.T)[off].mean().item()
    # sd across images per output (does the output vary with the image?) and across outputs per image
    # (a DINO teacher whose logits vary less than its temperature is uniform: the other collapse)
    print(f'  {name:<12} dim {z.shape[1]:>4}  mean pairwise cosine {cos:.4f}  effective rank {rank:6.2f}  '
          f'sd over images {z.std(0).mean().item():.4g}  sd over outputs {z.std(1).mean().item():.4g}')


def main(d):
    spec = json.load(open(os.path.join(d, 'spec.json')))
    weights = read_safetensors(os.path.join(d, 'weights.safetensors'))
    if spec['head'].get('bn') and 'head.bn1.weight' not in weights:
        spec['head']['bn'] = False  # a BYOL run from before its head had BatchNorm (README: Methods)
    model = PretextNet(spec['encoder'], spec['head'])
    own = {k: v for k, v in weights.items() if not k.startswith(('key.', 'loss.'))}
    model.load_state_dict(own, strict=False)
    missing = [n for n, _ in model.state_dict().items() if n not in own and not n.endswith('num_batches_tracked')]
    if missing:
        raise SystemExit('weights lack %s' % missing[:4])
    size = spec['size']
    x = torch.from_numpy(np.fromfile(os.path.join(d, 'x.u8'), dtype=np.uint8).reshape(-1, 1, size, size).copy())
    model.eval()
    with torch.no_grad():
        f = model.encode(x)
        out = model.head_out(f)[:, 0]
    print(f'{spec["label"]}: {len(x)} held-out X-rays')
    report('encoder', f[:, 0])
    if spec['head'].get('prototypes'):  # DINO: the K cosines to its prototypes
        report('prototypes', out)
        return
    width = spec['head']['out']
    report('projection', out[:, :width])
    if out.shape[1] > width:  # BYOL: [projection | prediction]
        report('prediction', out[:, width:])


if __name__ == '__main__':
    main(sys.argv[1])
