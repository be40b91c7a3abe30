"""What every method hook is: the step's loss from the network's forward and a batch, and the
method's own state between steps (saved with the weights under `key.*` / `loss.*`)."""
from collections import OrderedDict

import torch


class Hook:
    def __init__(self, spec, model, autocast):
        self.spec, self.model, self.autocast = spec, model, autocast

    def __call__(self, forward, x, y, train, scalars):
        """-> (loss, logits, target); `scalars` are the step's (lr and the method's own), None in eval."""
        raise NotImplementedError

    def state(self):
        return OrderedDict()

    def load(self, tensors):
        """Restores state() from a checkpoint's tensors (same names)."""
        with torch.no_grad():
            for n, t in self.state().items():
                t.copy_(tensors[n])

    def to(self, device):
        pass
