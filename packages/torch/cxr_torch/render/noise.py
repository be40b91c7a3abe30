"""Additive Gaussian noise from a seed: the same field as the TypeScript renderer's (augment/noise.ts),
made on the device from a counter-based hash (splitmix32 of seed + k x golden ratio), so a view's
noise depends on its seed alone. Pixels 2q and 2q + 1 share one Box-Muller pair."""
import math

import torch

PARAMS = ('sigma', 'seed')
M32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


def _mul32(x, c):
    """(x * c) mod 2^32 for x < 2^32 in int64, without overflowing 64 bits."""
    return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & M32


def splitmix32(seed, k):
    """seed [N] int64, k [K] int64 -> [N, K] uint32 values held in int64: mix32(seed + k * golden) of data/src/rng.ts."""
    x = (seed[:, None] + k[None, :] * GOLDEN + GOLDEN) & M32
    x = _mul32(x ^ (x >> 16), 0x85EBCA6B)
    x = _mul32(x ^ (x >> 13), 0xC2B2AE35)
    return x ^ (x >> 16)


def field(renderer, seed, sigma, count):
    """[N] seeds and sigmas (host) -> [N, count] float32 noise on the device."""
    pairs = (count + 1) // 2
    device = renderer.device
    h = splitmix32(renderer.to_device(seed), torch.arange(2 * pairs, dtype=torch.int64, device=device))
    u = ((h >> 9).float() + 0.5) / 8388608.0  # 23 bits: exact in float32, never 0
    r = renderer.to_device(sigma.float())[:, None] * torch.sqrt(-2.0 * torch.log(u[:, 0::2]))
    a = (2 * math.pi) * u[:, 1::2]
    return torch.stack([r * torch.cos(a), r * torch.sin(a)], 2).reshape(seed.shape[0], 2 * pairs)[:, :count]


def render(renderer, x, p):
    z = field(renderer, p[:, 1].to(torch.int64), p[:, 0], x[0].numel())
    return (x + z.view_as(x)).clamp(0, 255)
