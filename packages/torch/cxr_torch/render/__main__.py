"""Renders plan blocks saved by TypeScript, for the parity test and the speed bench (not the engine's path).

  python -m cxr_torch.render --dir D [--device cpu|cuda] [--threads N] [--seconds S]

D holds plans.json ({blocks: [{name, count, size, views, patch, program, width}]}) and per block
<name>.u8 (its cache images, [count, size, size]) and <name>.f64 (its plan rows, [count * views,
width], little-endian). Writes <name>.torch.u8 per block and prints one JSON line; with --seconds it
also renders each block again and again for that long and adds {viewsPerSec: {block: rate}}
(synchronised, so the clock is honest on CUDA).
"""
import argparse
import json
import os
import time

import torch

from . import Renderer, check_block


def read(path, dtype):
    with open(path, 'rb') as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype)


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
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    with open(os.path.join(args.dir, 'plans.json')) as f:
        blocks = json.load(f)['blocks']
    renderer = Renderer(device)
    rates = {}
    for block in blocks:
        name, count, size, views = block['name'], block['count'], block['size'], block['views']
        check_block(name, block, views, block['patch'], size)
        images = read(os.path.join(args.dir, name + '.u8'), torch.uint8).view(count, size, size).to(device)
        params = read(os.path.join(args.dir, name + '.f64'), torch.float64).view(count * views, block['width'])
        out = renderer.render(images, block['program'], params, views)
        with open(os.path.join(args.dir, name + '.torch.u8'), 'wb') as f:
            f.write(out.cpu().numpy().tobytes())
        if args.seconds > 0:
            renderer.render(images, block['program'], params, views)  # warm (kernels, allocator)
            n = 0
            sync()
            t = time.perf_counter()
            while time.perf_counter() - t < args.seconds:
                renderer.render(images, block['program'], params, views)
                n += 1
            sync()
            rates[name] = n * count * views / (time.perf_counter() - t)
    line = {'device': str(device), 'threads': torch.get_num_threads(), 'torch': torch.__version__}
    if args.seconds > 0:
        line['viewsPerSec'] = rates
    print(json.dumps(line))


if __name__ == '__main__':
    main()
