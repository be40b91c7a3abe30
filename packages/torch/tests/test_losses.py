"""The losses and LARS against small cases written out by hand, one scalar at a time."""
import contextlib
import math
import os
import sys
import tempfile
import unittest

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from client import init_request, initial_weights  # noqa: E402
from fixture import TINY, mlp_head, xrays  # noqa: E402

from cxr_ssl.safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from cxr_torch.lars import LARS  # noqa: E402
from cxr_torch.losses import byol_terms, dino_terms  # noqa: E402
from cxr_torch.methods.moco import Moco  # noqa: E402
from cxr_torch.methods.simclr import SimCLR  # noqa: E402
from cxr_torch.trainer import Trainer  # noqa: E402


def lse(*v):
    return math.log(sum(math.exp(a) for a in v))


class Embeddings(nn.Module):
    """Stands in for a network: the 'pixels' are already embeddings [B, V, D]; one weight for the EMA."""

    def __init__(self, out):
        super().__init__()
        self.out_parts, self.out_width = [out], out
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x.float() * self.w


class NTXentByHand(unittest.TestCase):
    def test_four_rows(self):
        # unit rows u0 = [1, 0], u1 = [0, 1] (view 0 of images 0, 1) and u2 = [.6, .8], u3 = [.8, .6]
        # (their view 1); given unnormalised to check the normalisation too
        z = torch.tensor([[[2.0, 0.0], [0.6, 0.8]], [[0.0, 3.0], [1.6, 1.2]]])
        t = 0.5
        d = {(0, 1): 0.0, (0, 2): 0.6, (0, 3): 0.8, (1, 2): 0.8, (1, 3): 0.6, (2, 3): 0.96}
        s = lambda i, j: d[(min(i, j), max(i, j))] / t  # noqa: E731
        pos = {0: 2, 1: 3, 2: 0, 3: 1}
        rows = [-s(i, pos[i]) + lse(*[s(i, j) for j in range(4) if j != i]) for i in range(4)]
        loss, logits, target = SimCLR({'temperature': t}, None, None)(lambda x: x, z, None, True, {'lr': 0})
        self.assertAlmostEqual(loss.item(), sum(rows) / 4, places=6)
        self.assertEqual(target.tolist(), [2, 3, 0, 1])
        self.assertEqual((logits.argmax(1) == target).tolist(), [False] * 4)  # each row has a nearer negative than its positive


class InfoNCEByHand(unittest.TestCase):
    def test_query_key_queue_momentum(self):
        net = Embeddings(2)
        loss_fn = Moco({'temperature': 0.5, 'momentum': 0.9, 'queue': 3, 'shuffleGroups': 1}, net, contextlib.nullcontext)
        loss_fn.queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
        with torch.no_grad():
            net.w.fill_(2.0)  # the step before moved the query network; the key network follows by 10 %
        # one image: query [1, 0], key [.6, .8]
        x = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])
        loss, logits, target = loss_fn(net, x, None, True, {'lr': 0})
        want = -1.2 + lse(1.2, 0.0, -2.0, 0.0)  # q.k = .6, q.queue = 0, -1, 0; / 0.5
        self.assertAlmostEqual(loss.item(), want, places=6)
        self.assertEqual(target.tolist(), [0])
        self.assertAlmostEqual(loss_fn.key.net.w.item(), 0.9 * 1.0 + 0.1 * 2.0, places=6)
        # the key (normalised) entered the queue at the pointer, which moved on
        self.assertEqual(loss_fn.queue[0].tolist(), [0.6000000238418579, 0.800000011920929])
        self.assertEqual(loss_fn.at, 1)
        state = loss_fn.state()
        self.assertEqual(list(state), ['key.w', 'loss.queue', 'loss.queue_ptr'])
        # eval: neither the queue nor the key network moves; each query against the held-out batch's other
        # views through the query network (w = 2, same directions): [1, 0] and [0, 1] against [.6, .8] and [.8, .6]
        before = loss_fn.queue.clone()
        x2 = torch.tensor([[[1.0, 0.0], [0.6, 0.8]], [[0.0, 1.0], [0.8, 0.6]]])
        loss, logits, target = loss_fn(net, x2, None, False, None)
        self.assertTrue(torch.equal(before, loss_fn.queue))
        self.assertEqual(target.tolist(), [0, 1])
        want = ((-1.2 + lse(1.2, 1.6)) + (-1.2 + lse(1.6, 1.2))) / 2
        self.assertAlmostEqual(loss.item(), want, places=5)
        self.assertAlmostEqual(loss_fn.key.net.w.item(), 1.1, places=6)


class MocoStateTravels(unittest.TestCase):
    """The key network and the queue are saved with the weights and come back on resume."""

    def test_save_then_resume_restores_key_network_and_queue(self):
        folder = tempfile.mkdtemp()
        head = mlp_head(16, 16, 8)
        loss = {'name': 'info-nce', 'temperature': 0.2, 'queue': 12, 'momentum': 0.9, 'shuffleGroups': 2}
        _, path = initial_weights(folder, TINY, head)
        first = Trainer(init_request(TINY, head, path, loss=loss))
        imgs = xrays(8, 32)  # [8, S, S] real X-rays; two 'views' of each: the image and its mirror
        x = torch.stack([imgs, imgs.flip(-1)], 1)
        for _ in range(2):
            first.resolve(first.launch(x, None, {'lr': 0.05}))
        saved = os.path.join(folder, 'w.safetensors')
        first.save(saved, os.path.join(folder, 'o.safetensors'))
        tensors = read_safetensors(saved)
        self.assertEqual(int(tensors['loss.queue_ptr'].item()), 16 % 12)
        again = Trainer(init_request(TINY, head, saved, loss=loss))
        self.assertTrue(torch.equal(again.hook.queue, first.hook.queue))
        self.assertEqual(again.hook.at, first.hook.at)
        for (n, a), b in zip(first.hook.key.net.state_dict().items(), again.hook.key.net.state_dict().values()):
            self.assertTrue(torch.equal(a, b), n)
        # the key network has moved away from the query network, so a fresh copy would differ
        self.assertFalse(all(torch.equal(a, b) for a, b in zip(again.hook.key.net.parameters(), again.model.parameters())))
        # a checkpoint with half a loss state is refused, naming what is missing
        del tensors['loss.queue']
        write_safetensors(saved, tensors)
        with self.assertRaisesRegex(ValueError, "method state does not match the method: missing \\['loss.queue'\\]"):
            Trainer(init_request(TINY, head, saved, loss=loss))


class ByolByHand(unittest.TestCase):
    def test_two_images_both_directions(self):
        # predictions p (view 0, view 1) and target projections z, given unnormalised
        p = torch.tensor([[[2.0, 0.0], [0.0, 1.0]], [[0.0, 3.0], [0.6, 0.8]]])
        z = torch.tensor([[[0.0, 5.0], [0.6, 0.8]], [[1.0, 0.0], [-1.0, 0.0]]])
        # image 0: cos(p0, z1) = [1,0].[.6,.8] = .6; cos(p1, z0) = [0,1].[0,1] = 1
        # image 1: cos(p0, z1) = [0,1].[-1,0] = 0; cos(p1, z0) = [.6,.8].[1,0] = .6
        want = ((2 - 1.2) + (2 - 2.0) + (2 - 0.0) + (2 - 1.2)) / 4
        loss, logits, target = byol_terms(p, z)
        self.assertAlmostEqual(loss.item(), want, places=6)
        # logits: p0 of each image against z1 of every image: [[.6, -1], [.8, 0]]
        self.assertEqual([[round(v, 5) for v in r] for r in logits.tolist()], [[0.6, -1.0], [0.8, 0.0]])
        self.assertEqual(target.tolist(), [0, 1])


class DinoByHand(unittest.TestCase):
    def test_one_image_two_global_one_local(self):
        # K = 2 prototypes; student crops (2 global, 1 local), teacher's 2 global crops, centre c
        s = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]])
        t = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
        c = torch.tensor([0.5, 0.0])
        ts, tt = 0.5, 0.25

        def softmax(v):
            e = [math.exp(a) for a in v]
            return [a / sum(e) for a in e]

        q = [softmax([(a - b) / tt for a, b in zip(row, c.tolist())]) for row in t[0].tolist()]
        logp = [[math.log(v) for v in softmax([a / ts for a in row])] for row in s[0].tolist()]
        terms = [-sum(qi * lj for qi, lj in zip(q[i], logp[j])) for i in range(2) for j in range(3) if i != j]
        self.assertEqual(len(terms), 4)  # (0,1) (0,2) (1,0) (1,2)
        loss, logits, target = dino_terms(s, t, c, ts, tt)
        self.assertAlmostEqual(loss.item(), sum(terms) / 4, places=6)
        # top-1: the student's second crop (as a distribution) against the teacher's first, cosine
        p1 = softmax([a / ts for a in s[0, 1].tolist()])
        cos = sum(a * b for a, b in zip(p1, q[0])) / math.sqrt(sum(a * a for a in p1) * sum(b * b for b in q[0]))
        self.assertEqual(target.tolist(), [0])  # its own image
        self.assertAlmostEqual(logits.item(), cos, places=6)


class LarsByHand(unittest.TestCase):
    def test_one_step_weight_and_bias(self):
        w = nn.Parameter(torch.tensor([[3.0, 4.0]]))  # |w| = 5
        b = nn.Parameter(torch.tensor([1.0]))
        w.grad = torch.tensor([[0.0, 1.0]])
        b.grad = torch.tensor([0.5])
        opt = LARS([w, b], lr=0.1, momentum=0.9, weight_decay=0.1, eta=0.001)
        opt.step()
        d = [0.3, 0.4 + 1.0]  # grad + wd * w
        dn = math.hypot(*d)
        q = 0.001 * 5 / dn
        self.assertAlmostEqual(w[0, 0].item(), 3.0 - 0.1 * q * d[0], places=6)
        self.assertAlmostEqual(w[0, 1].item(), 4.0 - 0.1 * q * d[1], places=6)
        self.assertAlmostEqual(b.item(), 1.0 - 0.1 * 0.5, places=6)  # biases: no decay, no trust ratio


if __name__ == '__main__':
    unittest.main()
