"""The fp64 test mode (`precision: 'fp64'`): float64 end to end on the CPU, the same step as fp32 up to
fp32 rounding, checkpoints still float32 and interchangeable."""
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from client import init_request, initial_weights  # noqa: E402
from fixture import TINY, mlp_head, rotation_batch  # noqa: E402

from cxr_ssl.safetensors_io import read_safetensors  # noqa: E402
from cxr_torch.trainer import Trainer  # noqa: E402

PROJECTOR = mlp_head(16, 16, 8)
CASES = [
    ({'kind': 'classifier', 'views': 1, 'hidden': 16, 'classes': 4}, None),
    (PROJECTOR, {'name': 'nt-xent', 'temperature': 0.2}),
    (PROJECTOR, {'name': 'info-nce', 'temperature': 0.2, 'queue': 12, 'momentum': 0.9, 'shuffleGroups': 2}),
]


def batch(head):
    x, y = rotation_batch(8, 32)
    if head.get('kind') == 'projector':
        return torch.cat([x, x.flip(3)], 1).contiguous(), None  # two views
    return x, y.long()


class Fp64(unittest.TestCase):
    def test_every_loss_steps_in_float64_like_fp32(self):
        for head, loss in CASES:
            with self.subTest(loss=(loss or {}).get('name', 'cross-entropy')):
                folder = tempfile.mkdtemp()
                _, path = initial_weights(folder, TINY, head)
                extra = {'loss': loss} if loss else {}
                x, y = batch(head)
                wide = Trainer(init_request(TINY, head, path, precision='fp64', **extra))
                narrow = Trainer(init_request(TINY, head, path, **extra))
                self.assertEqual(wide.dtype, 'fp64')
                self.assertTrue(all(p.dtype == torch.float64 for p in wide.model.parameters()))
                for _ in range(2):
                    a, b = wide.resolve(wide.launch(x, y, {'lr': 0.05})), narrow.resolve(narrow.launch(x, y, {'lr': 0.05}))
                    self.assertAlmostEqual(a['loss'], b['loss'], places=4)
                got, want = dict(wide.model.named_parameters()), dict(narrow.model.named_parameters())
                for name, p in want.items():
                    self.assertLess(float((got[name].float() - p).abs().max()), 1e-4, name)
                # saved as float32, and a fp64 trainer resumes from it with float64 momentum
                w, o = os.path.join(folder, 'w.safetensors'), os.path.join(folder, 'o.safetensors')
                wide.save(w, o)
                self.assertTrue(all(t.dtype == torch.float32 for t in read_safetensors(w).values()))
                resumed = Trainer(init_request(TINY, head, w, optimizerStatePath=o, precision='fp64', **extra))
                self.assertTrue(all(s['momentum_buffer'].dtype == torch.float64 for s in resumed.opt.state.values()))
                resumed.resolve(resumed.launch(x, y, {'lr': 0.05}))

    def test_unknown_precision_is_refused(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, CASES[0][0])
        with self.assertRaisesRegex(ValueError, 'unknown precision "fp16"'):
            Trainer(init_request(TINY, CASES[0][0], path, precision='fp16'))


if __name__ == '__main__':
    unittest.main()
