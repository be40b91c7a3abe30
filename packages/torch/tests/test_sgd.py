import copy
import os
import sys
import tempfile
import unittest

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from client import init_request, initial_weights  # noqa: E402
from fixture import TINY, rotation_batch  # noqa: E402

from cxr_torch.trainer import Trainer  # noqa: E402

HEAD = {'kind': 'classifier', 'views': 1, 'hidden': 16, 'classes': 4}


class Sgd(unittest.TestCase):
    def test_two_steps_equal_momentum_sgd_with_weight_decay_by_hand(self):
        folder = tempfile.mkdtemp()
        net, path = initial_weights(folder, TINY, HEAD)
        trainer = Trainer(init_request(TINY, HEAD, path))
        x, y = rotation_batch(8, 32)
        y = y.long()
        lrs, m, wd = [0.05, 0.02], 0.9, 0.0005
        ref = copy.deepcopy(net)
        bufs = {}
        for lr in lrs:
            pending = trainer.launch(x, y, {'lr': lr})
            ref.zero_grad()
            loss = F.cross_entropy(ref(x), y)
            loss.backward()
            self.assertAlmostEqual(trainer.resolve(pending)['loss'], float(loss), places=5)
            with torch.no_grad():
                for name, p in ref.named_parameters():
                    g = p.grad + wd * p
                    bufs[name] = g.clone() if name not in bufs else m * bufs[name] + g
                    p -= lr * bufs[name]
        got = dict(trainer.model.named_parameters())
        for name, p in ref.named_parameters():
            self.assertLess(float((got[name] - p).abs().max()), 1e-6, name)
        moved = max(float((got[n] - p).abs().max()) for n, p in net.named_parameters())
        self.assertGreater(moved, 1e-4)

    def test_resumed_momentum_continues_like_an_uninterrupted_run(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, HEAD)
        x, y = rotation_batch(8, 32)
        y = y.long()
        straight = Trainer(init_request(TINY, HEAD, path))
        for _ in range(3):
            straight.launch(x, y, {'lr': 0.05})
        first = Trainer(init_request(TINY, HEAD, path))
        for _ in range(2):
            first.launch(x, y, {'lr': 0.05})
        w, o = os.path.join(folder, 'w.safetensors'), os.path.join(folder, 'o.safetensors')
        first.save(w, o)
        resumed = Trainer(init_request(TINY, HEAD, w, optimizerStatePath=o))
        resumed.launch(x, y, {'lr': 0.05})
        a, b = dict(straight.model.named_parameters()), dict(resumed.model.named_parameters())
        for name in a:
            self.assertLess(float((a[name] - b[name]).abs().max()), 1e-6, name)


if __name__ == '__main__':
    unittest.main()
