"""The measuring half of tools/probe/train-health.ts (which writes <dir>/spec.json, weights.safetensors,
x.u8, y.i32). Replays the run's first steps with the engine's own model and loss, SGD as the engine
builds it, and prints per step: loss, accuracy, gradient norms, encoder features, weight movement."""
import json
import math
import os
import sys

import torch

from cxr_torch.methods import make_hook
from cxr_torch.model import PretextNet, canonical_state
from cxr_torch.safetensors_io import read_safetensors


def main(d):
    spec = json.load(open(os.path.join(d, 'spec.json')))
    torch.manual_seed(spec['seed'])
    model = PretextNet(spec['encoder'], spec['head'])
    weights = read_safetensors(os.path.join(d, 'weights.safetensors'))
    with torch.no_grad():
        for name, t in canonical_state(model).items():
            t.copy_(weights[name])
    autocast = lambda: torch.autocast(device_type='cpu', enabled=False)
    hook = make_hook(spec['loss'], model, autocast)
    o = spec['optimizer']
    opt = torch.optim.SGD(model.parameters(), lr=o['lr'], momentum=o.get('momentum', 0), weight_decay=o.get('weightDecay', 0))
    b, v, p = spec['shape'][0], spec['shape'][1], spec['shape'][2]
    per = b * v * p * p
    x_all = torch.frombuffer(bytearray(open(os.path.join(d, 'x.u8'), 'rb').read()), dtype=torch.uint8)
    y_path = os.path.join(d, 'y.i32')
    y_all = torch.frombuffer(bytearray(open(y_path, 'rb').read()), dtype=torch.int32).long() if os.path.exists(y_path) else None
    enc = [(n, q) for n, q in model.named_parameters() if not n.startswith('head.')]
    head = [q for n, q in model.named_parameters() if n.startswith('head.')]
    start = [q.detach().clone() for _, q in enc]
    start_norm = math.sqrt(sum(float(s.pow(2).sum()) for s in start))
    feats = {}

    def norm(ps):
        return math.sqrt(sum(float(q.grad.pow(2).sum()) for q in ps if q.grad is not None))

    print('step     lr      loss    acc  |g| enc  |g| head  feat mean  feat=0  feat=max  |dW|/|W0| enc')
    steps = len(spec['scalars'])
    for s in range(steps):
        x = x_all[s * per:(s + 1) * per].reshape(b, v, p, p)
        y = y_all[s * b:(s + 1) * b] if y_all is not None else None
        scalars = spec['scalars'][s]
        for g in opt.param_groups:
            g['lr'] = scalars['lr']

        def forward(inp):
            f = model.encode(inp)
            feats['f'] = f.detach()
            return f if model.head_spec is None else model.head_out(f)

        loss, logits, targets = hook(forward, x, y, True, scalars)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        ge, gh = norm([q for _, q in enc]), norm(head)
        opt.step()
        if s % spec['every'] == 0 or s == steps - 1:
            f = feats['f']
            top = float(f.max())
            moved = math.sqrt(sum(float((q.detach() - w0).pow(2).sum()) for (_, q), w0 in zip(enc, start))) / max(start_norm, 1e-12)
            acc = float((logits.argmax(1) == targets).float().mean())
            print('%4d  %.2e  %7.4f  %5.3f  %7.2e  %8.2e  %9.3f  %6.1f%%  %7.1f%%  %.2e' % (
                s, scalars['lr'], float(loss.detach()), acc, ge, gh, float(f.mean()), 100 * float((f == 0).float().mean()),
                100 * float((f >= top - 1e-6).float().mean()) if top > 0 else 0.0, moved))
    print('classes: ln K = %.4f' % math.log(spec['head']['classes']) if spec['head'].get('classes') else '')


if __name__ == '__main__':
    main(sys.argv[1])
