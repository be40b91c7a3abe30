"""Blanks the edge of the view with a grey level: the inscribed disc kept (frame 0), or a border of
`frame` px (packages/data/src/augment/mask.ts)."""
import torch

PARAMS = ('frame', 'fill')


def render(renderer, x, p):
    size = x.shape[-1]
    c = (size - 1) / 2.0
    i = torch.arange(size, dtype=torch.float32, device=x.device)
    circle = ((i[:, None] - c) ** 2 + (i[None, :] - c) ** 2) <= (size / 2.0) ** 2
    w = renderer.to_device(p[:, 0].float()).view(-1, 1, 1)
    inside = (i[None, :, None] >= w) & (i[None, None, :] >= w) & (i[None, :, None] < size - w) & (i[None, None, :] < size - w)
    keep = torch.where(w == 0, circle[None], inside)
    fill = renderer.to_device(p[:, 1].float()).view(-1, 1, 1, 1)
    return torch.where(keep[:, None], x, fill.expand_as(x))
