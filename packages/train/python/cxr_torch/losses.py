"""The losses of the torch engine, by the names of the loss spec (packages/train/src/engine.ts LossSpec).

Each loss takes the network's forward and a batch and returns (loss, logits, target): the step's
accuracy is the top-1 accuracy of those logits, whatever the loss. The tfjs engine's twins are in
packages/train/src/engines/tfjs-losses.ts; the parity tests hold them to each other.
"""
import copy
from collections import OrderedDict

import torch
import torch.nn.functional as F

from . import ddp

def widen(t):
    """At least float32 (bf16 under autocast -> fp32); float64 stays float64 (the fp64 test mode)."""
    return t if t.dtype == torch.float64 else t.float()


MASKED = -1e9  # stands in for -inf on NT-Xent's diagonal (a view is not its own negative)


def nt_xent_terms(z, temperature):
    """z [B, 2, D] -> (mean loss, logits, target) for SimCLR. The candidates are the views of the
    global batch (every rank's, under --gpus); the anchors are this rank's own 2B views, so with DDP
    averaging the ranks' gradients the step equals one process on the global batch."""
    b, views, _ = z.shape
    if views != 2:
        raise ValueError('nt-xent compares 2 views per image, the batch has %d' % views)
    z = widen(z)
    rows = torch.cat([ddp.gather(z[:, 0]), ddp.gather(z[:, 1])])  # all view 0, then all view 1
    n = rows.shape[0] // 2
    first = ddp.rank() * b
    mine = torch.cat([torch.arange(first, first + b), n + torch.arange(first, first + b)]).to(z.device)
    u = F.normalize(rows, dim=1)
    sim = (u[mine] @ u.t()) / temperature
    logits = sim.masked_fill(F.one_hot(mine, 2 * n).bool(), MASKED)
    target = (mine + n) % (2 * n)
    return F.cross_entropy(logits, target), logits, target


class CrossEntropy:
    def __init__(self, spec, model, autocast):
        pass

    def __call__(self, forward, x, y, train):
        if y is None:
            raise ValueError('cross-entropy needs labelled batches, this batch has none')
        logits = widen(forward(x))
        return F.cross_entropy(logits, y), logits, y


class NTXent:
    def __init__(self, spec, model, autocast):
        self.temperature = float(spec['temperature'])

    def __call__(self, forward, x, y, train):
        return nt_xent_terms(forward(x), self.temperature)


class InfoNCE:
    """MoCo v2: the query view through the network, the key view through its momentum copy
    (`key.*`, no gradient), negatives from a queue of earlier keys (`loss.queue`, FIFO from
    `loss.queue_ptr`). The copy and the queue are saved with the weights, so resume carries them.
    One device has no shuffled BatchNorm: keys are encoded in `shuffleGroups` sub-batches rolled by
    one group, so no key shares batch statistics with its query."""

    def __init__(self, spec, model, autocast):
        self.t = float(spec['temperature'])
        self.m = float(spec['momentum'])
        self.groups = int(spec.get('shuffleGroups', 1))
        self.query = model
        self.autocast = autocast
        self.key = copy.deepcopy(model)
        for p in self.key.parameters():
            p.requires_grad_(False)
        gen = torch.Generator().manual_seed(0)
        dtype = next(model.parameters()).dtype  # float64 in the fp64 test mode
        self.queue = F.normalize(torch.randn(int(spec['queue']), model.head_spec['out'], generator=gen), dim=1).to(dtype)
        self.at = 0  # a Python int: reading a device tensor every step would sync the GPU

    def to(self, device):
        self.key.to(device)
        self.queue = self.queue.to(device)

    def state(self):
        out = OrderedDict(('key.' + n, t) for n, t in self.key.state_dict().items() if not n.endswith('num_batches_tracked'))
        out['loss.queue'] = self.queue
        out['loss.queue_ptr'] = torch.tensor([float(self.at)])
        return out

    def load(self, tensors):
        with torch.no_grad():
            for n, t in self.state().items():
                if n == 'loss.queue_ptr':
                    self.at = int(tensors[n].item())
                else:
                    t.copy_(tensors[n])

    def encode_keys(self, x):
        b = x.shape[0]
        g = self.groups if b % self.groups == 0 and b >= 2 * self.groups else 1
        if g == 1:
            return self.key(x)
        rolled = torch.roll(x, b // g, 0)
        return torch.roll(torch.cat([self.key(c) for c in rolled.chunk(g)]), -(b // g), 0)

    def __call__(self, forward, x, y, train):
        q = F.normalize(widen(forward(x[:, :1])[:, 0]), dim=1)
        with torch.no_grad():
            if train:  # MoCo's order: the key network follows the weights the previous step left
                for pk, pq in zip(self.key.parameters(), self.query.parameters()):
                    pk.mul_(self.m).add_(pq.detach(), alpha=1 - self.m)
            self.key.train(train)
            with self.autocast():
                k = self.encode_keys(x[:, 1:2])
            k = F.normalize(widen(k[:, 0]), dim=1)
        # a copy: the queue is updated in place below, before backward reads it
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.queue.clone().t()], 1) / self.t
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        if train:
            with torch.no_grad():
                keys = ddp.gather(k)[-self.queue.shape[0]:]
                n, size = keys.shape[0], self.queue.shape[0]
                self.queue[(self.at + torch.arange(n, device=k.device)) % size] = keys
                self.at = (self.at + n) % size
        return F.cross_entropy(logits, target), logits, target


LOSSES = {'cross-entropy': CrossEntropy, 'nt-xent': NTXent, 'info-nce': InfoNCE}


def make_loss(spec, model, autocast):
    """The loss named by `spec` for `model`; `autocast` is the trainer's mixed-precision context."""
    name = (spec or {}).get('name', 'cross-entropy')
    if name not in LOSSES:
        raise ValueError('unknown loss "%s": expected one of %s' % (name, ', '.join(LOSSES)))
    return LOSSES[name](spec or {}, model, autocast)


def loss_state(loss):
    """The loss's own canonical tensors (MoCo: key network and queue), empty for stateless losses."""
    return loss.state() if hasattr(loss, 'state') else OrderedDict()
