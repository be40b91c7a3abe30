"""Embeddings of held-out X-rays for the collapse measure: `python -m cxr_torch.collapse <dir>` (eval's
measureCollapse writes <dir>: spec.json, weights.safetensors, x.u8 = N held-out images, size x size) writes
<dir>/out.safetensors: `encoder` [N, F], the encoder's features, and `head` [N, W], the head's output (each
emitted value, then the last layer's, e.g. BYOL's projection and prediction, DINO's prototype cosines), and
prints one JSON line with the head's part widths. BatchNorm in eval mode, no augmentation. The statistics
are computed in TypeScript (packages/train/src/collapse.ts), the same as every held-out pass's."""
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

from .model import PretextNet
from cxr_ssl.safetensors_io import read_safetensors, write_safetensors


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
    write_safetensors(os.path.join(d, 'out.safetensors'), OrderedDict([('encoder', f[:, 0].float().contiguous()), ('head', out.float().contiguous())]))
    print(json.dumps({'parts': list(model.out_parts)}))


if __name__ == '__main__':
    main(sys.argv[1])
