"""A method's moving-average copy of the network (MoCo's key encoder, BYOL's target, DINO's
teacher), saved under `key.*` with the weights so that resume carries it."""
import copy
from collections import OrderedDict

import torch


class EmaNetwork:
    def __init__(self, model):
        self.online = model
        self.net = copy.deepcopy(model)
        for p in self.net.parameters():
            p.requires_grad_(False)

    def follow(self, tau):
        """net <- tau * net + (1 - tau) * online, parameters only (BN statistics are the copy's own)."""
        with torch.no_grad():
            for pk, pq in zip(self.net.parameters(), self.online.parameters()):
                pk.mul_(tau).add_(pq.detach(), alpha=1 - tau)

    def to(self, device):
        self.net.to(device)

    def state(self):
        return OrderedDict(('key.' + n, t) for n, t in self.net.state_dict().items() if not n.endswith('num_batches_tracked'))

    def __call__(self, x, train, autocast):
        """No gradient; BatchNorm in the mode of the step (as the online network)."""
        self.net.train(train)
        with torch.no_grad(), autocast():
            return self.net(x)
