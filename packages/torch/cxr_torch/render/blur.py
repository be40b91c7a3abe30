"""Gaussian blur, a separable kernel of radius max(1, ceil(3 sigma)) per view, edges replicated, rows
then columns, as one grouped convolution per pass (packages/data/src/augment/blur.ts).

On CUDA it runs on every view of the block, sigma 0 (a view whose p skipped it) being the identity
kernel: the convolutions then keep one shape from batch to batch, where the views it touches vary in
number, and cudnn.benchmark would tune every new shape."""
import math

import torch
import torch.nn.functional as F

PARAMS = ('sigma',)
EVERY_VIEW = True


def kernels(sigma):
    """[N] sigmas (float64, host) -> [N, 2R + 1] normalised kernels, zero beyond each view's own radius;
    sigma 0: the identity."""
    radii = [max(1, math.ceil(3 * s)) if s > 0 else 0 for s in sigma.tolist()]
    r = max(1, max(radii))
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-(t * t)[None, :] / (2 * sigma.clamp_min(1e-6)[:, None] ** 2))
    k = k * (t.abs()[None, :] <= torch.tensor(radii, dtype=torch.float64)[:, None])
    return k / k.sum(1, keepdim=True), r


def render(renderer, x, p):
    k, r = kernels(p[:, 0])
    n = x.shape[0]
    w = renderer.to_device(k.float())
    rows = F.conv2d(F.pad(x, (r, r, 0, 0), mode='replicate').view(1, n, x.shape[2], -1), w.view(n, 1, 1, -1), groups=n)
    cols = F.conv2d(F.pad(rows.view(n, 1, x.shape[2], -1), (0, 0, r, r), mode='replicate').view(1, n, -1, x.shape[3]), w.view(n, 1, -1, 1), groups=n)
    return cols.view_as(x)


__all__ = ['PARAMS', 'kernels', 'render']
