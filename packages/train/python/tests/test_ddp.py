import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import vgg_spec  # noqa: E402

from cxr_torch import ddp  # noqa: E402
from cxr_torch.model import PretextNet, canonical_state  # noqa: E402


class SyncBatchNormConversion(unittest.TestCase):
    """--gpus on CUDA swaps BatchNorm2d for SyncBatchNorm: the graph must run the new modules, with the
    very parameters the optimiser holds and the same canonical names (checkpoints stay the same)."""

    def test_graph_runs_the_converted_modules_on_the_same_tensors(self):
        net = PretextNet(vgg_spec('tiny-bn', [[8], [16]], bn=True), {'views': 1, 'hidden': 8, 'classes': 4})
        before = canonical_state(net)
        ddp.sync_batchnorm(net)
        after = canonical_state(net)
        self.assertEqual(list(before), list(after))
        for name, t in before.items():
            self.assertIs(after[name], t, name)
        bn = [(op, m) for op, m in net.graph.steps if op['op'] == 'bn']
        self.assertEqual(len(bn), 2)
        for op, m in bn:
            self.assertIsInstance(m, torch.nn.SyncBatchNorm)
            self.assertIs(m, net.get_submodule(op['name']))

    def test_a_plain_process_is_left_alone(self):
        os.environ.pop('WORLD_SIZE', None)
        net = PretextNet(vgg_spec('tiny', [[8]]), None)
        self.assertIs(ddp.wrap(net, torch.device('cpu')), net)
        self.assertEqual(ddp.describe(), '')


if __name__ == '__main__':
    unittest.main()
