"""The second reference of tools/device/gpu-check.sh: a method's views made on the device the way a
PyTorch user would write it, independently of cxr_torch/render: random parameters drawn per view by
torch on the device, one affine_grid + grid_sample for crop, rotation and flip, tensor ops for
brightness, contrast and gamma, a grouped convolution for the blur, randn for the noise, each under
its probability p. It reads the method's augmentation lists (the same options our samplers plan
from), one block of views per entry of `blocks` ({views, patch, augment}): a block smaller than the
image without a crop of its own takes a random window of that size (the grid tasks' patches); a
block with a crop resizes it to the block's size (DINO's local crops). Label-making steps (quarter
turns, tile order) are index permutations and are left out.
"""
import math

import torch
import torch.nn.functional as F


def _uniform(n, lo, hi, device):
    return lo + (hi - lo) * torch.rand(n, device=device)


def _on(n, p, device):
    return torch.rand(n, device=device) < p


def _geometry(n, source, patch, augment, device):
    """Per view: the crop box (centre, size) in the source's normalised coordinates, turned and flipped -> thetas [n, 2, 3]."""
    crop = next((a for a in augment if a['name'] == 'crop'), None)
    if crop is not None:
        on = _on(n, crop['p'], device)
        area = _uniform(n, crop['scale'][0], crop['scale'][1], device)
        logr = _uniform(n, math.log(crop['ratio'][0]), math.log(crop['ratio'][1]), device)
        w = torch.sqrt(area * torch.exp(logr)).clamp(max=1.0)
        h = torch.sqrt(area / torch.exp(logr)).clamp(max=1.0)
        w, h = torch.where(on, w, torch.ones_like(w)), torch.where(on, h, torch.ones_like(h))
    else:  # a window of the block's size (or the whole image)
        w = h = torch.full((n,), patch / source, device=device)
    cx = (torch.rand(n, device=device) * (1 - w) + w / 2) * 2 - 1
    cy = (torch.rand(n, device=device) * (1 - h) + h / 2) * 2 - 1
    angle = torch.zeros(n, device=device)
    for a in augment:
        if a['name'] == 'rotate':
            angle = torch.where(_on(n, a['p'], device), _uniform(n, -a['degrees'], a['degrees'], device) * math.pi / 180, angle)
    flip = torch.ones(n, device=device)
    for a in augment:
        if a['name'] == 'flip':
            flip = torch.where(_on(n, a['p'], device), -flip, flip)
    cos, sin = torch.cos(angle), torch.sin(angle)
    row0 = torch.stack([w * cos * flip, -h * sin, cx], 1)
    row1 = torch.stack([w * sin * flip, h * cos, cy], 1)
    return torch.stack([row0, row1], 1)


def _intensity(v, a):
    n, dev = v.shape[0], v.device
    on = _on(n, a['p'], dev).view(-1, 1, 1, 1)
    b, c, g = (_uniform(n, 1 - a[k], 1 + a[k], dev).view(-1, 1, 1, 1) for k in ('brightness', 'contrast', 'gamma'))
    x = (v / 255 * b).clamp(0, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = 255 * (mean + c * (x - mean)).clamp(0, 1).pow(g)
    return torch.where(on, x, v)


def _blur(v, a):
    n, dev = v.shape[0], v.device
    on = _on(n, a['p'], dev).view(-1, 1, 1, 1)
    sigma = _uniform(n, a['sigma'][0], a['sigma'][1], dev)
    r = max(1, math.ceil(3 * a['sigma'][1]))
    t = torch.arange(-r, r + 1, device=dev, dtype=v.dtype)
    k = torch.exp(-(t * t)[None, :] / (2 * sigma[:, None] ** 2))
    k = k / k.sum(1, keepdim=True)
    size = v.shape[-1]
    x = F.conv2d(F.pad(v, (r, r, 0, 0), mode='replicate').view(1, n, size, -1), k.view(n, 1, 1, -1), groups=n)
    x = F.conv2d(F.pad(x.view(n, 1, size, size), (0, 0, r, r), mode='replicate').view(1, n, -1, size), k.view(n, 1, -1, 1), groups=n)
    return torch.where(on, x.view_as(v), v)


def _noise(v, a):
    n, dev = v.shape[0], v.device
    sigma = (a['std'] * torch.rand(n, device=dev) * _on(n, a['p'], dev)).view(-1, 1, 1, 1)
    return (v + sigma * torch.randn_like(v)).clamp(0, 255)


PIXEL = {'intensity': _intensity, 'blur': _blur, 'noise': _noise}


def user_views(images, block):
    """images: [B, S, S] uint8 on the device -> [B, views, patch, patch] uint8 views of `block` (rounded, so
    the model takes what it takes from our pipe, and a compiled model is not compiled again for floats)."""
    b, source = images.shape[0], images.shape[-1]
    views, patch, augment = block['views'], block['patch'], block['augment']
    n = b * views
    theta = _geometry(n, source, patch, augment, images.device)
    grid = F.affine_grid(theta, [n, 1, patch, patch], align_corners=False)
    x = images.float().unsqueeze(1).repeat_interleave(views, 0)
    v = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)
    for a in augment:
        if a['name'] in PIXEL:
            v = PIXEL[a['name']](v, a)
    return (v.clamp(0, 255) + 0.5).floor().to(torch.uint8).view(b, views, patch, patch)
