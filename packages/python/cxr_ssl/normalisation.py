"""The input normalisation, from the numbers TypeScript gives (packages/models/src/spec.ts
`inputNormalisation`: config.json's `input_normalisation`, and the engine's encoder spec's
`normalisation`), shared by load_encoder's Preprocess and the torch engine."""
import torch
from torch import nn


class Normalise(nn.Module):
    """Grey pixels [..., 1, H, W] on 0..255 -> the network's input [..., C, H, W]:
     - per-image: (x - mean) / sqrt(var + eps) over each image (population variance, as tfjs and ONNX)
     - affine: channel c = (x / divide - mean[c]) / std[c] (C = len(mean): the grey image becomes the
       three channels of an ImageNet model)
    The constants are non-persistent buffers: on the model's device, not in the state dict."""

    def __init__(self, norm):
        super().__init__()
        self.type = norm['type']
        if self.type == 'per-image':
            self.eps = norm['eps']
        elif self.type == 'affine':
            self.divide = norm['divide']
            self.register_buffer('mean', torch.tensor(norm['mean'], dtype=torch.float32).reshape(-1, 1, 1), persistent=False)
            self.register_buffer('std', torch.tensor(norm['std'], dtype=torch.float32).reshape(-1, 1, 1), persistent=False)
        else:
            raise ValueError('unknown input normalisation type %r: expected per-image or affine' % (self.type,))

    def forward(self, x):
        if self.type == 'per-image':
            mean = x.mean(dim=(-3, -2, -1), keepdim=True)
            var = x.var(dim=(-3, -2, -1), keepdim=True, unbiased=False)
            return (x - mean) / torch.sqrt(var + self.eps)
        return (x / self.divide - self.mean) / self.std
