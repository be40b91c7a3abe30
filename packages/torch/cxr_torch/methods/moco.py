"""MoCo v2: the query view through the network, the key view through its momentum copy (`key.*`,
no gradient), negatives from a queue of earlier keys (`loss.queue`, FIFO from `loss.queue_ptr`).
One device has no shuffled BatchNorm: keys are encoded in `shuffleGroups` sub-batches rolled by
one group, so no key shares batch statistics with its query."""
import torch
import torch.nn.functional as F

from .. import ddp
from ..losses import info_nce, widen
from .ema import EmaNetwork
from .hook import Hook


class Moco(Hook):
    def __init__(self, spec, model, autocast):
        super().__init__(spec, model, autocast)
        self.key = EmaNetwork(model)
        gen = torch.Generator().manual_seed(0)
        dtype = next(model.parameters()).dtype  # float64 in the fp64 test mode
        self.queue = F.normalize(torch.randn(spec['queue'], model.out_width, generator=gen), dim=1).to(dtype)
        self.at = 0  # a Python int: reading a device tensor every step would sync the GPU

    def to(self, device):
        self.key.to(device)
        self.queue = self.queue.to(device)

    def state(self):
        out = self.key.state()
        out['loss.queue'] = self.queue
        out['loss.queue_ptr'] = torch.tensor([float(self.at)])
        return out

    def load(self, tensors):
        super().load(tensors)
        self.at = int(tensors['loss.queue_ptr'].item())

    def encode_keys(self, x, train):
        b, g = x.shape[0], self.spec['shuffleGroups']
        if g == 1 or b % g != 0 or b < 2 * g:
            return self.key(x, train, self.autocast)
        rolled = torch.roll(x, b // g, 0)
        return torch.roll(torch.cat([self.key(c, train, self.autocast) for c in rolled.chunk(g)]), -(b // g), 0)

    def __call__(self, forward, x, y, train, scalars):
        q = F.normalize(widen(forward(x[:, :1])[:, 0]), dim=1)
        if not train:
            # held out: the encoder being trained (the query network, the one exported) on both views, each
            # image's other view among the held-out batch's. The queue holds keys of train images (on a small
            # data set, many copies of each), and early in a run the slow key network still gives every image
            # nearly the same key: a top-1 against either says nothing about the representation
            other = F.normalize(widen(forward(x[:, 1:2])[:, 0]), dim=1)
            logits = q @ other.t() / self.spec['temperature']
            target = torch.arange(q.shape[0], device=q.device)
            return F.cross_entropy(logits, target), logits, target
        if train:  # MoCo's order: the key network follows the weights the previous step left
            self.key.follow(self.spec['momentum'])
        k = F.normalize(widen(self.encode_keys(x[:, 1:2], train)[:, 0]), dim=1)
        # a copy: the queue is updated in place below, before backward reads it
        out = info_nce(q, k, self.queue.clone(), self.spec['temperature'])
        if train:
            with torch.no_grad():
                keys = ddp.gather(k)[-self.queue.shape[0]:]
                n, size = keys.shape[0], self.queue.shape[0]
                self.queue[(self.at + torch.arange(n, device=k.device)) % size] = keys
                self.at = (self.at + n) % size
        return out
