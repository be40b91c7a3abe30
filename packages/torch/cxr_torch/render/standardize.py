"""The view's grey levels to mean 128 and sd `std`, clamped; a flat view (sd below 1e-3, what float
rounding leaves on a flat one) becomes flat 128 (packages/data/src/augment/standardize.ts)."""
import torch

PARAMS = ('std',)
FLAT_SD = 1e-3


def render(renderer, x, p):
    std = renderer.to_device(p[:, 0].float()).view(-1, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    sd = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False).sqrt()
    scale = torch.where(sd > FLAT_SD, std / sd.clamp_min(FLAT_SD), torch.zeros_like(sd))
    return (128 + (x - mean) * scale).clamp(0, 255)
