"""Brightness, contrast about the view's mean, gamma, on v = grey / 255 clamped to [0, 1] after each
(packages/data/src/augment/intensity.ts)."""
PARAMS = ('brightness', 'contrast', 'gamma')


def render(renderer, x, p):
    b, c, g = (renderer.to_device(p[:, k].float()).view(-1, 1, 1, 1) for k in range(3))
    v = (x / 255.0 * b).clamp(0, 1)
    mean = v.mean(dim=(1, 2, 3), keepdim=True)
    return 255.0 * (mean + c * (v - mean)).clamp(0, 1).pow(g)
