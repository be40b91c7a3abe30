"""Raw PyTorch reference for tools/device/gpu-check.sh: the same model (built from the same spec
JSON by cxr_torch), the same batch shape, SGD + bf16 autocast + channels_last, data already on
the device, no pipe, no per-step sync (`--compile`: torch.compile'd, as the engine with compile). Prints one JSON line {samplesPerSec, ...}.

  python -m cxr_torch.bench_raw --spec spec.json --shape 128,1,128,128 --classes 4
(spec.json: {"encoder", "head"} (models' torchModel), "loss": LossSpec}, written by tools/device/spec.ts;
the loss is the engine's own function from cxr_torch.losses, e.g. SimCLR's NT-Xent)
"""
import argparse
import json
import time

import torch

from .methods import make_hook
from .model import PretextNet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('--shape', required=True, help='B,V,P,P')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--warmup-seconds', type=float, default=5)
    ap.add_argument('--seconds', type=float, default=12)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--compile', action='store_true', help='torch.compile the model (as the engine does with compile)')
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    shape = [int(s) for s in args.shape.split(',')]
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
    xs = [torch.randint(0, 256, shape, dtype=torch.uint8, device=device) for _ in range(4)]
    ys = [torch.randint(0, classes, (shape[0],), device=device) if classes else None for _ in range(4)]

    autocast = (lambda: torch.autocast(device_type='cuda', dtype=torch.bfloat16)) if cuda else (
        lambda: torch.autocast(device_type='cpu', enabled=False))
    hook = make_hook(spec['loss'], model, autocast)
    hook.to(device)
    scalars = dict(spec['scalars'], lr=0.001)  # a method's other per-step scalars, from the spec file

    def forward(x):
        with autocast():
            return module(x)

    def step(i):
        loss, _, _ = hook(forward, xs[i % 4], ys[i % 4], True, scalars)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if cuda:
            torch.cuda.synchronize()

    i = 0
    t0 = time.perf_counter()
    step(i)  # the first step compiles (cudnn.benchmark, torch.compile): the warm-up starts after it
    sync()
    first_step_seconds = time.perf_counter() - t0
    t = time.perf_counter()
    while time.perf_counter() - t < args.warmup_seconds:
        for _ in range(10):
            step(i)
            i += 1
        sync()
    # measured: chunks of 10 async steps, synced per chunk so the clock is honest
    n = 0
    t = time.perf_counter()
    while time.perf_counter() - t < args.seconds:
        for _ in range(10):
            loss = step(i)
            i += 1
        sync()
        n += 10
    elapsed = time.perf_counter() - t
    print(json.dumps({'kind': 'raw', 'shape': shape, 'samplesPerSec': n * shape[0] / elapsed, 'steps': n,
                      'loss': loss.item(), 'device': torch.cuda.get_device_name(device) if cuda else 'cpu', 'compile': args.compile,
                      'firstStepSeconds': first_step_seconds,
                      'torch': torch.__version__}))


if __name__ == '__main__':
    main()
