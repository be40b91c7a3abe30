"""One stage's resampling: affine_grid + grid_sample (bilinear, padding_mode 'border', align_corners
False), which is the TypeScript sampler's convention: pixel centres at integers, coordinates clamped
to [0, n - 1] (edges replicated)."""
import torch
import torch.nn.functional as F


def normalised_thetas(maps, n_in, n_out):
    """Pixel maps [N, 6] (out (i, j) -> in (y, x), see __init__.py) -> affine_grid's thetas [N, 2, 3],
    which map normalised out (u, v) to normalised in (gx, gy), in float64 on the host."""
    a, b, c, d, e, f = maps.unbind(1)
    half = n_out / 2.0
    off = (n_out - 1) / 2.0
    s = 2.0 / n_in
    gx = torch.stack([s * e * half, s * d * half, s * (d * off + e * off + f) + 1.0 / n_in - 1.0], 1)
    gy = torch.stack([s * b * half, s * a * half, s * (a * off + b * off + c) + 1.0 / n_in - 1.0], 1)
    return torch.stack([gx, gy], 1)


def sample_stage(renderer, x, maps, size, views):
    """x: [B, 1, n, n] float32 inputs; maps: [B * views, 6] -> [B * views, 1, size, size]. Each input
    serves `views` consecutive maps: their grids are stacked along the output's height."""
    n = x.shape[-1]
    rows = maps.shape[0]
    theta = renderer.to_device(normalised_thetas(maps, n, size).float())
    grid = F.affine_grid(theta, [rows, 1, size, size], align_corners=False)
    grid = grid.reshape(rows // views, views * size, size, 2)
    out = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)
    return out.reshape(rows, 1, size, size)
