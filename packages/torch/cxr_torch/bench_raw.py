"""Raw PyTorch references for tools/device/gpu-check.sh: the same model (built from the same spec
JSON by cxr_torch), the same batch shape, SGD + bf16 autocast + channels_last, data already on
the device, no pipe, no per-step sync (`--compile`: torch.compile'd, as the engine with compile).
  raw:       uint8 views already made (the limit: no augmentation at all);
  augmented: with --augment also, the same model then trains on views made each step from uint8
             images on the device by cxr_torch.bench_augment (the method's augmentations as a PyTorch
             user writes them; no plans, no pipe).
Prints one JSON line {samplesPerSec, augmented?: {samplesPerSec}, ...}.

  python -m cxr_torch.bench_raw --spec spec.json --batch 128 [--augment] [--compile]
(spec.json: {encoder, head (models' torchModel), loss, scalars, views: {source, blocks: [{views, patch, augment}]}},
written by tools/device/spec.ts; the loss is the engine's own function from cxr_torch.losses, e.g. SimCLR's
NT-Xent; `--shape B,V,P,P` instead of --batch: that one block, as before)
"""
import argparse
import json
import time

import torch

from .bench_augment import user_views
from .methods import make_hook
from .model import PretextNet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('--shape', help='B,V,P,P (one block; default: the spec\'s views at --batch)')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--augment', action='store_true', help='also measure the loop with the views made on the device each step')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--warmup-seconds', type=float, default=5)
    ap.add_argument('--seconds', type=float, default=12)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--compile', action='store_true', help='torch.compile the model (as the engine does with compile)')
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    if args.shape:
        b, v, p, _ = [int(s) for s in args.shape.split(',')]
        blocks = [{'views': v, 'patch': p, 'augment': []}]
        source = p
    else:
        b, blocks, source = args.batch, spec['views']['blocks'], spec['views']['source']
    shapes = [[b, blk['views'], blk['patch'], blk['patch']] for blk in blocks]
    shape = shapes[0]
    device = torch.device(args.device)
    cuda = device.type == 'cuda'
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    elif args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = PretextNet(spec['encoder'], spec['head']).to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    module = torch.compile(model) if args.compile else model
    classes = spec['head']['classes'] if spec['head']['kind'] == 'classifier' else None

    def made():  # views as the batch brings them: the whole block, then a multi-crop method's local one
        t = [torch.randint(0, 256, s, dtype=torch.uint8, device=device) for s in shapes]
        return tuple(t) if len(t) > 1 else t[0]
    xs = [made() for _ in range(4)]
    ys = [torch.randint(0, classes, (b,), device=device) if classes else None for _ in range(4)]
    images = [torch.randint(0, 256, (b, source, source), dtype=torch.uint8, device=device) for _ in range(4)]

    autocast = (lambda: torch.autocast(device_type='cuda', dtype=torch.bfloat16)) if cuda else (
        lambda: torch.autocast(device_type='cpu', enabled=False))
    hook = make_hook(spec['loss'], model, autocast)
    hook.to(device)
    scalars = dict(spec['scalars'], lr=0.001)  # a method's other per-step scalars, from the spec file

    def forward(x):
        with autocast():
            return module(x)

    def step(i, augment=False):
        if augment:
            views = [user_views(images[i % 4], blk) for blk in blocks]
            x = tuple(views) if len(views) > 1 else views[0]
        else:
            x = xs[i % 4]
        loss, _, _ = hook(forward, x, ys[i % 4], True, scalars)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def measure(augment):
        """-> (samples/s, steps, last loss, seconds of the first step)"""
        i = 0
        t0 = time.perf_counter()
        step(i, augment)  # the first step compiles (cudnn.benchmark, torch.compile): the warm-up starts after it
        sync()
        first = time.perf_counter() - t0
        t = time.perf_counter()
        while time.perf_counter() - t < args.warmup_seconds:
            for _ in range(10):
                step(i, augment)
                i += 1
            sync()
        # measured: chunks of 10 async steps, synced per chunk so the clock is honest
        n = 0
        t = time.perf_counter()
        while time.perf_counter() - t < args.seconds:
            for _ in range(10):
                loss = step(i, augment)
                i += 1
            sync()
            n += 10
        return n * b / (time.perf_counter() - t), n, loss.item(), first

    rate, n, loss, first = measure(False)
    out = {'kind': 'raw', 'shape': shape, 'shapes': shapes, 'samplesPerSec': rate, 'steps': n, 'loss': loss,
           'device': torch.cuda.get_device_name(device) if cuda else 'cpu', 'compile': args.compile,
           'firstStepSeconds': first, 'torch': torch.__version__}
    if args.augment:
        rate, n, loss, first = measure(True)
        out['augmented'] = {'samplesPerSec': rate, 'steps': n, 'loss': loss, 'firstStepSeconds': first, 'source': source}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
