"""Renders plan blocks saved by TypeScript, for the parity test and the speed bench (not the engine's path).

  python -m cxr_torch.render --dir D [--device cpu|cuda] [--threads N] [--seconds S]

D holds plans.json ({count, size, blocks: [{name, views, patch, program, width}]}), images.u8
([count, size, size]) and <name>.f64 per block ([count * views, width], little-endian). Writes
<name>.torch.u8 per block; with --seconds, also renders each block again and again for that long and
prints one JSON line {block: views/s} (synchronised, so the clock is honest on CUDA).
"""
import argparse
import json
import os
import time

import torch

from . import Renderer, check_block


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--seconds', type=float, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    with open(os.path.join(args.dir, 'plans.json')) as f:
        meta = json.load(f)
    count, size = meta['count'], meta['size']
    raw = open(os.path.join(args.dir, 'images.u8'), 'rb').read()
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(count, size, size).to(device)
    renderer = Renderer(device)
    rates = {}
    for block in meta['blocks']:
        check_block(block['name'], block, block['views'], block['patch'], size)
        data = open(os.path.join(args.dir, block['name'] + '.f64'), 'rb').read()
        params = torch.frombuffer(bytearray(data), dtype=torch.float64).view(count * block['views'], block['width'])
        out = renderer.render(images, block['program'], params, block['views'])
        with open(os.path.join(args.dir, block['name'] + '.torch.u8'), 'wb') as f:
            f.write(out.cpu().numpy().tobytes())
        if args.seconds > 0:
            n = 0
            sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
            sync()
            t = time.perf_counter()
            while time.perf_counter() - t < args.seconds:
                renderer.render(images, block['program'], params, block['views'])
                n += 1
            sync()
            rates[block['name']] = n * count * block['views'] / (time.perf_counter() - t)
    if args.seconds > 0:
        print(json.dumps({'viewsPerSec': rates, 'device': str(device), 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
