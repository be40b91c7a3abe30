"""The measuring half of tools/probe/train-health.ts (which writes <dir>/spec.json, weights.safetensors,
x.u8, y.i32). Replays the run's first steps through the engine's own Trainer (model, optimiser, method
hook), and prints per step: loss, accuracy, gradient norms, encoder features, weight movement."""
import json
import math
import os
import sys

import torch

from cxr_torch.trainer import Trainer


def main(d):
    spec = json.load(open(os.path.join(d, 'spec.json')))
    # the engine's own trainer: the same model, weights, optimiser (SGD or LARS) and method hook
    trainer = Trainer({'type': 'init', 'encoder': spec['encoder'], 'head': spec['head'], 'loss': spec['loss'],
                       'optimizer': spec['optimizer'], 'seed': spec['seed'], 'device': 'cpu',
                       'weightsPath': os.path.join(d, 'weights.safetensors')})
    model = trainer.model
    feats = {}
    encode = model.encode

    def capture(x):  # the encoder's output on this step's batch, for the dead/saturated counts
        f = encode(x)
        feats['f'] = f.detach()
        return f

    model.encode = capture
    b, v, p = spec['shape'][0], spec['shape'][1], spec['shape'][2]
    per = b * v * p * p
    x_all = torch.frombuffer(bytearray(open(os.path.join(d, 'x.u8'), 'rb').read()), dtype=torch.uint8)
    y_path = os.path.join(d, 'y.i32')
    y_all = torch.frombuffer(bytearray(open(y_path, 'rb').read()), dtype=torch.int32).long() if os.path.exists(y_path) else None
    enc = [q for n, q in model.named_parameters() if not n.startswith('head.')]
    head = [q for n, q in model.named_parameters() if n.startswith('head.')]
    start = [q.detach().clone() for q in enc]
    start_norm = math.sqrt(sum(float(w.pow(2).sum()) for w in start))

    def norm(ps):  # the step's gradients: the trainer zeroes them only at the next step
        return math.sqrt(sum(float(q.grad.pow(2).sum()) for q in ps if q.grad is not None))

    print('step     lr      loss    acc  |g| enc  |g| head  feat mean  feat=0  feat=max  |dW|/|W0| enc')
    steps = len(spec['scalars'])
    for s in range(steps):
        x = x_all[s * per:(s + 1) * per].reshape(b, v, p, p)
        y = y_all[s * b:(s + 1) * b] if y_all is not None else None
        scalars = spec['scalars'][s]
        r = trainer.resolve(trainer.launch(x, y, scalars))
        if s % spec['every'] == 0 or s == steps - 1:
            f = feats['f']
            top = float(f.max())
            moved = math.sqrt(sum(float((q.detach() - w0).pow(2).sum()) for q, w0 in zip(enc, start))) / max(start_norm, 1e-12)
            print('%4d  %.2e  %7.4f  %5.3f  %7.2e  %8.2e  %9.3f  %6.1f%%  %7.1f%%  %.2e' % (
                s, scalars['lr'], r['loss'], r['accuracy'], norm(enc), norm(head), float(f.mean()),
                100 * float((f == 0).float().mean()), 100 * float((f >= top - 1e-6).float().mean()) if top > 0 else 0.0, moved))
    print('classes: ln K = %.4f' % math.log(spec['head']['classes']) if spec['head']['kind'] == 'classifier' else '')


if __name__ == '__main__':
    main(sys.argv[1])
