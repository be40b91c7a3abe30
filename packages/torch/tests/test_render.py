"""The torch renderer of view plans (cxr_torch/render) on real X-rays, against independent references
written here with Python ints and floats; on CUDA too where there is one. Its parity with the
TypeScript renderer, plan by plan, is packages/torch/src/render-parity.test.ts."""
import math
import os
import random
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import xrays  # noqa: E402

from cxr_torch.render import PlanError, Renderer, check_block, width  # noqa: E402
from cxr_torch.render.noise import splitmix32  # noqa: E402

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
IDENTITY = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def program(size, source, ops=()):
    return {'source': source, 'stages': [{'size': size, 'ops': list(ops)}]}


def render(device, images, prog, rows, views=1):
    r = Renderer(torch.device(device))
    return r.render(images.to(device), prog, torch.tensor(rows, dtype=torch.float64), views).cpu()


def mix32_reference(x):
    """data/src/rng.ts mix32 with Python ints."""
    x = (x + 0x9E3779B9) & 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x85EBCA6B) & 0xFFFFFFFF
    x = ((x ^ (x >> 13)) * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def bilinear_reference(img, y, x):
    n = img.shape[0] - 1
    y, x = min(n, max(0.0, y)), min(n, max(0.0, x))
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    y1, x1 = min(n, y0 + 1), min(n, x0 + 1)
    fy, fx = y - y0, x - x0
    a = float(img[y0, x0]) * (1 - fx) + float(img[y0, x1]) * fx
    b = float(img[y1, x0]) * (1 - fx) + float(img[y1, x1]) * fx
    return a * (1 - fy) + b * fy


class Geometry(unittest.TestCase):
    def test_identity_and_quarter_turns_are_exact(self):
        imgs = xrays(3, 32)
        for device in DEVICES:
            out = render(device, imgs, program(32, 32), [IDENTITY] * 3)
            self.assertTrue(torch.equal(out[:, 0], imgs), device)
            n = 31
            turns = [[0, 1, 0, -1, 0, n], [-1, 0, n, 0, -1, n], [0, -1, n, 1, 0, 0]]  # k = 1, 2, 3 (plan.ts quarterTurn)
            out = render(device, imgs[:1].expand(3, 32, 32).contiguous(), program(32, 32), turns)
            for k in range(3):
                self.assertTrue(torch.equal(out[k, 0], torch.rot90(imgs[0], k + 1)), (device, k + 1))

    def test_a_rotated_upscaled_box_is_bilinear_at_the_mapped_points(self):
        img = xrays(1, 48)
        c, s = math.cos(0.4), math.sin(0.4)
        m = [0.6 * c, 0.6 * s, 10.0, -0.7 * s, 0.7 * c, 5.5]  # a box, rotated, anisotropic, partly outside
        want = torch.tensor([[bilinear_reference(img[0], m[0] * i + m[1] * j + m[2], m[3] * i + m[4] * j + m[5])
                              for j in range(40)] for i in range(40)])
        for device in DEVICES:
            out = render(device, img, program(40, 48), [m])[0, 0].float()
            d = (out - (want + 0.5).floor()).abs()
            self.assertLessEqual(d.max().item(), 1, device)
            self.assertLessEqual((d > 0).float().mean().item(), 2e-3, device)

    def test_views_of_one_sample_read_its_own_image(self):
        imgs = xrays(2, 24)
        shift = [1, 0, 3, 0, 1, 2]
        out = render('cpu', imgs, program(16, 24), [IDENTITY[:2] + [0.0] + IDENTITY[3:], shift] * 2, views=2)
        self.assertEqual(tuple(out.shape), (2, 2, 16, 16))
        for b in range(2):
            self.assertTrue(torch.equal(out[b, 0], imgs[b, :16, :16]))
            self.assertTrue(torch.equal(out[b, 1], imgs[b, 3:19, 2:18]))


class PixelOps(unittest.TestCase):
    def test_intensity_by_hand(self):
        img = torch.tensor([[[0, 51], [102, 255]]], dtype=torch.uint8)
        out = render('cpu', img, program(2, 2, ['intensity']), [IDENTITY + [1, 1.5, 2, 0.5]])
        # as augment.test.ts: v * 1.5 clamped, mean 0.475, contrast 2 about it, clamped, sqrt, x 255
        self.assertEqual(out.flatten().tolist(), [0, 90, 217, 255])

    def test_blur_spreads_an_impulse_as_the_outer_product_of_the_kernel(self):
        img = torch.zeros(1, 9, 9, dtype=torch.uint8)
        img[0, 4, 4] = 255
        for device in DEVICES:
            out = render(device, img, program(9, 9, ['blur']), [IDENTITY + [1, 1.0]])[0, 0]
            w = [math.exp(-k * k / 2) for k in range(-3, 4)]
            total = sum(w)
            for (i, j) in [(4, 4), (4, 5), (5, 5), (2, 6)]:
                want = 255 * w[i - 1] * w[j - 1] / total ** 2
                self.assertEqual(out[i, j].item(), math.floor(want + 0.5), (device, i, j))

    def test_views_switched_off_are_untouched(self):
        imgs = xrays(4, 16)
        rows = [IDENTITY + [on, 2.0] for on in (1, 0, 1, 0)]
        out = render('cpu', imgs, program(16, 16, ['blur']), rows)[:, 0]
        self.assertTrue(torch.equal(out[1], imgs[1]) and torch.equal(out[3], imgs[3]))
        self.assertFalse(torch.equal(out[0], imgs[0]))
        # the blur on every view (CUDA's way: one shape per block), the skipped ones by the identity kernel
        dense = Renderer(torch.device('cpu'), every_view=True).render(imgs, program(16, 16, ['blur']), torch.tensor(rows, dtype=torch.float64), 1)
        self.assertTrue(torch.equal(dense[:, 0], out))

    def test_standardize_and_mask(self):
        imgs = xrays(2, 32)
        out = render('cpu', imgs, program(32, 32, ['standardize']), [IDENTITY + [1, 48]] * 2)[:, 0].float()
        for v in out:
            self.assertAlmostEqual(v.mean().item(), 128, delta=2)
            self.assertAlmostEqual(v.std(unbiased=False).item(), 48, delta=2)
        flat = torch.full((1, 8, 8), 77, dtype=torch.uint8)
        self.assertTrue((render('cpu', flat, program(8, 8, ['standardize']), [IDENTITY + [1, 48]]) == 128).all())
        masked = render('cpu', imgs, program(32, 32, ['mask', 'mask']), [IDENTITY + [1, 0, 7, 0, 0, 0], IDENTITY + [1, 3, 9, 0, 0, 0]])[:, 0]
        self.assertEqual(masked[0, 0, 0].item(), 7)  # circle: the corner is blanked, the centre kept
        self.assertEqual(masked[0, 16, 16].item(), imgs[0, 16, 16].item())
        self.assertEqual(masked[1, 2, 16].item(), 9)  # a 3 px frame
        self.assertEqual(masked[1, 3, 16].item(), imgs[1, 3, 16].item())


class Noise(unittest.TestCase):
    def test_the_hash_is_splitmix32_of_data_rng_ts(self):
        rnd = random.Random(5)
        seeds = [rnd.randrange(1 << 32) for _ in range(20)] + [0, 0xFFFFFFFF]
        ks = [0, 1, 2, 1000, 65535, 131071]
        got = splitmix32(torch.tensor(seeds, dtype=torch.int64), torch.tensor(ks, dtype=torch.int64))
        for a, s in enumerate(seeds):
            for b, k in enumerate(ks):
                self.assertEqual(got[a, b].item(), mix32_reference((s + k * 0x9E3779B9) & 0xFFFFFFFF), (s, k))

    def test_one_pair_by_hand_and_the_field_statistics(self):
        seed = 123456789
        u = [((mix32_reference((seed + k * 0x9E3779B9) & 0xFFFFFFFF) >> 9) + 0.5) / 2 ** 23 for k in (0, 1)]
        r = 5 * math.sqrt(-2 * math.log(u[0]))
        want = [math.floor(100 + r * math.cos(2 * math.pi * u[1]) + 0.5), math.floor(100 + r * math.sin(2 * math.pi * u[1]) + 0.5)]
        flat = torch.full((1, 128, 128), 128, dtype=torch.uint8)
        for device in DEVICES:
            out = render(device, torch.full((1, 2, 2), 100, dtype=torch.uint8), program(2, 2, ['noise']), [IDENTITY + [1, 5, seed]])
            self.assertEqual(out.flatten()[:2].tolist(), want, device)
            a = render(device, flat, program(128, 128, ['noise']), [IDENTITY + [1, 10, 42]]).float() - 128
            self.assertTrue(torch.equal(a, render(device, flat, program(128, 128, ['noise']), [IDENTITY + [1, 10, 42]]).float() - 128))
            self.assertFalse(torch.equal(a, render(device, flat, program(128, 128, ['noise']), [IDENTITY + [1, 10, 43]]).float() - 128))
            self.assertLess(abs(a.mean().item()), 0.3)
            self.assertLess(abs(a.std(unbiased=False).item() - math.sqrt(100 + 1 / 12)), 0.3)
            d = a.flatten()
            for lag in (1, 2):
                corr = (d[lag:] * d[:-lag]).mean() / d.var(unbiased=False)
                self.assertLess(abs(corr.item()), 0.03)

    def test_cpu_and_cuda_paint_the_same_field(self):
        if 'cuda' not in DEVICES:
            self.skipTest('no CUDA device')
        imgs = xrays(4, 64)
        rows = [[0.9, 0.1, 3, -0.1, 0.9, 2] + [1, 6.0, s] for s in (1, 2, 3, 4)]
        a = render('cpu', imgs, program(64, 64, ['noise']), rows).int()
        b = render('cuda', imgs, program(64, 64, ['noise']), rows).int()
        self.assertLessEqual((a - b).abs().max().item(), 1)


class Blocks(unittest.TestCase):
    def test_width_and_the_checks_name_the_field(self):
        prog = {'source': 64, 'stages': [{'size': 64, 'ops': ['intensity', 'blur']}, {'size': 32, 'ops': ['noise']}]}
        self.assertEqual(width(prog), 6 + 4 + 2 + 6 + 3)
        check_block('render.views', {'program': prog, 'width': 21}, 2, 32, 64)
        bad = [
            ({'program': prog, 'width': 20}, 'width is 20'),
            ({'program': dict(prog, source=128), 'width': 21}, 'source is 128'),
            ({'program': {'source': 64, 'stages': [{'size': 32, 'ops': ['sharpen']}]}, 'width': 6}, "stages[0].ops[0]: unknown pixel op 'sharpen'"),
            ({'program': {'source': 64, 'stages': []}, 'width': 0}, 'at least one stage'),
        ]
        for block, message in bad:
            with self.assertRaises(PlanError) as e:
                check_block('render.views', block, 2, 32, 64)
            self.assertIn(message, str(e.exception))
        with self.assertRaises(PlanError) as e:
            check_block('render.views', {'program': prog, 'width': 21}, 2, 16, 64)
        self.assertIn('32 px views, the batch shape says 16', str(e.exception))


if __name__ == '__main__':
    unittest.main()
