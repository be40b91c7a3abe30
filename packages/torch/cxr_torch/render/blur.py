"""Gaussian blur, a separable kernel of radius max(1, ceil(3 sigma)) per view, edges replicated, rows
then columns, as one grouped convolution per pass (packages/data/src/augment/blur.ts)."""
import math

import torch
import torch.nn.functional as F

PARAMS = ('sigma',)


def kernels(sigma):
    """[N] sigmas (float64, host) -> [N, 2R + 1] normalised kernels, zero beyond each view's own radius."""
    radii = [max(1, math.ceil(3 * s)) for s in sigma.tolist()]
    r = max(radii)
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-(t * t)[None, :] / (2 * sigma[:, None] ** 2))
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
