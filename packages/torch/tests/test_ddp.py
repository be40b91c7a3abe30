import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import vgg_spec  # noqa: E402

from cxr_torch import ddp, global_bn  # noqa: E402
from cxr_torch.model import PretextNet, canonical_state  # noqa: E402


class SyncBatchNormConversion(unittest.TestCase):
    """--gpus on CUDA swaps BatchNorm2d for SyncBatchNorm: the graph must run the new modules, with the
    very parameters the optimiser holds and the same canonical names (checkpoints stay the same)."""

    def test_graph_runs_the_converted_modules_on_the_same_tensors(self):
        net = PretextNet(vgg_spec('tiny-bn', [[8], [16]], bn=True), {'kind': 'classifier', 'views': 1, 'hidden': 8, 'classes': 4})
        before = canonical_state(net)
        ddp.sync_batchnorm(net)
        after = canonical_state(net)
        self.assertEqual(list(before), list(after))
        for name, t in before.items():
            self.assertIs(after[name], t, name)
        bn = [(op, step[2]) for op, step in zip(net.graph.ops, net.graph.steps) if op['op'] == 'bn']
        self.assertEqual(len(bn), 2)
        for op, m in bn:
            self.assertIsInstance(m, torch.nn.SyncBatchNorm)
            self.assertIs(m, net.get_submodule(op['name']))

    def test_a_plain_process_is_left_alone(self):
        os.environ.pop('WORLD_SIZE', None)
        net = PretextNet(vgg_spec('tiny', [[8]]), None)
        self.assertIs(ddp.wrap(net, torch.device('cpu')), net)
        self.assertEqual(ddp.describe(), '')


def teardown():
    """Both ranks done before either leaves, then out without gloo's teardown: without the barrier gloo
    aborted a rank about 1 run in 10 on 2 cores ("terminate called without an active exception"), and
    with it still now and then under load (torch 2.13, 2026-12-07), in destroy_process_group or in the
    destructors at exit. The engine's ranks never destroy their group either; their results are on disk."""
    torch.distributed.barrier()
    os._exit(0)


def _contrastive_rank(rank, world, store, z_all, out):
    """One rank of GatherAcrossRanks: its slice of z, a loss over its own rows against every row."""
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank))
    torch.distributed.init_process_group('gloo', init_method='file://' + store, rank=rank, world_size=world)
    b = z_all.shape[0] // world
    z = z_all[rank * b:(rank + 1) * b].clone().requires_grad_(True)
    everyone = ddp.gather(z)
    loss = contrastive(z, everyone, rank * b) / b  # the mean over this rank's rows
    loss.backward()
    torch.save({'gathered': everyone.detach(), 'grad': z.grad}, out % rank)
    teardown()


def contrastive(q, keys, offset):
    """InfoNCE-like: each row of q against all keys, its own row (offset + i) the positive; summed."""
    logits = q @ keys.t() / 0.1
    return torch.nn.functional.cross_entropy(logits, torch.arange(q.shape[0]) + offset, reduction='sum')


class GatherAcrossRanks(unittest.TestCase):
    def test_two_ranks_get_the_global_batch_and_the_single_process_gradient(self):
        import tempfile

        import torch.multiprocessing as mp

        torch.manual_seed(0)
        z_all = torch.randn(8, 5)
        folder = tempfile.mkdtemp()
        out = os.path.join(folder, 'rank%d.pt')
        mp.spawn(_contrastive_rank, args=(2, os.path.join(folder, 'store'), z_all, out), nprocs=2, join=True)
        one = z_all.clone().requires_grad_(True)
        (contrastive(one, one, 0) / 8).backward()
        for rank in (0, 1):
            got = torch.load(out % rank)
            torch.testing.assert_close(got['gathered'], z_all)
            # the ranks' losses summed through the gather: N x the global mean's gradient, which DDP's
            # mean over the N ranks turns into exactly the single-process gradient
            torch.testing.assert_close(got['grad'] / 2, one.grad[rank * 4:(rank + 1) * 4], rtol=1e-5, atol=1e-6)


def _bn_rank(rank, world, store, x_all, out):
    """One rank of GlobalBatchNormAcrossRanks: its slice through a converted BatchNorm2d, loss = its rows' sum."""
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank))
    torch.distributed.init_process_group('gloo', init_method='file://' + store, rank=rank, world_size=world)
    torch.manual_seed(0)
    bn = global_bn.convert(torch.nn.Sequential(torch.nn.BatchNorm2d(3))).train()
    b = x_all.shape[0] // world
    x = x_all[rank * b:(rank + 1) * b].clone().requires_grad_(True)
    y = bn(x)
    (y * WEIGHTS[rank * b:(rank + 1) * b]).sum().backward()
    torch.save({'y': y.detach(), 'grad': x.grad, 'w': bn[0].weight.grad, 'mean': bn[0].running_mean, 'var': bn[0].running_var}, out % rank)
    teardown()


WEIGHTS = torch.linspace(-1, 2, 8 * 3 * 4 * 5).reshape(8, 3, 4, 5)


class GlobalBatchNormAcrossRanks(unittest.TestCase):
    """CPU ranks (no SyncBatchNorm on CPU) normalise with the global batch's statistics: the same output,
    input gradient (summed over the ranks' losses), parameter gradient and running statistics as one
    BatchNorm2d over the whole batch."""

    def test_two_ranks_equal_one_batchnorm_over_the_global_batch(self):
        import tempfile

        import torch.multiprocessing as mp

        torch.manual_seed(1)
        x_all = torch.randn(8, 3, 4, 5) * 3 + 1
        folder = tempfile.mkdtemp()
        out = os.path.join(folder, 'rank%d.pt')
        mp.spawn(_bn_rank, args=(2, os.path.join(folder, 'store'), x_all, out), nprocs=2, join=True)
        one = x_all.clone().requires_grad_(True)
        bn = torch.nn.BatchNorm2d(3).train()
        y = bn(one)
        (y * WEIGHTS).sum().backward()
        got = [torch.load(out % r) for r in (0, 1)]
        torch.testing.assert_close(torch.cat([g['y'] for g in got]), y.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(torch.cat([g['grad'] for g in got]), one.grad, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(got[0]['w'] + got[1]['w'], bn.weight.grad, rtol=1e-5, atol=1e-6)
        for g in got:
            torch.testing.assert_close(g['mean'], bn.running_mean)
            torch.testing.assert_close(g['var'], bn.running_var)


if __name__ == '__main__':
    unittest.main()
