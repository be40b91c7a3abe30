"""Builds the engine's nn.Module from the encoder and head TypeScript sends (packages/models/src/torch-model.ts
`torchModel`: the specs of spec.ts with the input normalisation and a projector's widths as numbers).

The encoder is the user package's graph interpreter (cxr_ssl.graph, shared with load_encoder). Parameters
are registered in nested container modules named after the canonical weight names (`features.0.weight`,
`head.fc1.bias`, ...), so `state_dict()` keys ARE the canonical names and safetensors files written by
TypeScript load without any mapping.
"""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from cxr_ssl.graph import Graph, register
from cxr_ssl.normalisation import Normalise
from torch import nn


class InputNorm(Normalise):
    """The encoder spec's `normalisation` (numbers from TypeScript) on uint8 [N, 1, P, P] -> float32
    [N, C, P, P] (float64 in the fp64 test mode, see PretextNet.double)."""

    def __init__(self, norm):
        super().__init__(norm)
        self.dtype = torch.float32

    def forward(self, x):
        return super().forward(x.to(self.dtype))


def is_projector(head_spec):
    return head_spec is not None and head_spec['kind'] == 'projector'


class PretextNet(nn.Module):
    """Shared encoder per view, then the head. Classifier: optional proj (linear+relu) -> concat ->
    fc1 + relu -> fc2 -> logits [B, classes]. Projector: its layer list per view -> [B, V, out_width],
    the emitted values then the last layer's (widths `out_parts`)."""

    def __init__(self, encoder_spec, head_spec=None):
        super().__init__()
        self.input_norm = InputNorm(encoder_spec['normalisation'])
        self.graph = Graph(encoder_spec, self)
        self.head_spec = head_spec
        if head_spec is None:
            return
        features = encoder_spec['features']
        if is_projector(head_spec):
            self.out_parts = head_spec['parts']
            self.out_width = sum(self.out_parts)
            for layer, width in zip(head_spec['layers'], head_spec['inputs']):
                kind = layer['layer']
                if kind in ('dense', 'cosine'):
                    register(self, layer['name'], nn.Linear(width, layer['out'], bias=kind == 'dense'))
                elif kind == 'bn':  # BatchNorm2d on [N, C, 1, 1]: DDP's SyncBatchNorm/GlobalBatchNorm2d cover it
                    register(self, layer['name'], nn.BatchNorm2d(width, eps=layer['eps'], momentum=layer['momentum']))
                elif kind not in ('relu', 'emit'):
                    raise ValueError('unknown projector head layer "%s"' % kind)
            return
        width = features
        if 'proj' in head_spec:
            register(self, 'head.proj', nn.Linear(features, head_spec['proj']))
            width = head_spec['proj']
        register(self, 'head.fc1', nn.Linear(head_spec['views'] * width, head_spec['hidden']))
        register(self, 'head.fc2', nn.Linear(head_spec['hidden'], head_spec['classes']))

    def double(self):
        """The fp64 test mode (CPU): parameters, buffers and the input normalisation in float64."""
        self.input_norm.dtype = torch.float64
        return super().double()

    def encode(self, x):
        """uint8/float [B, V, P, P] -> per-view encoder features [B, V, F]."""
        b, v, p, q = x.shape
        z = self.input_norm(x.reshape(b * v, 1, p, q))
        if x.is_cuda:
            z = z.contiguous(memory_format=torch.channels_last)
        return self.graph(z).reshape(b, v, -1)

    def head_out(self, f):
        """per-view features [B, V, F] -> the head's output (logits, or per-view embeddings)."""
        if is_projector(self.head_spec):
            return self._projector(f)
        if 'proj' in self.head_spec:
            f = F.relu(self.head.proj(f))
        return self.head.fc2(F.relu(self.head.fc1(f.reshape(f.shape[0], -1))))

    def _projector(self, h):
        """[B, V, F] through the projector's layers; the emitted values and the last one, concatenated
        (one forward, so DDP sees every parameter used)."""
        emitted = []
        for layer in self.head_spec['layers']:
            kind = layer['layer']
            if kind == 'dense':
                h = self.get_submodule(layer['name'])(h)
            elif kind == 'cosine':
                w = self.get_submodule(layer['name']).weight
                h = F.normalize(h, dim=-1) @ F.normalize(w, dim=-1).T
            elif kind == 'bn':  # over every view of the batch
                b, v, c = h.shape
                h = self.get_submodule(layer['name'])(h.reshape(b * v, c, 1, 1)).reshape(b, v, c)
            elif kind == 'relu':
                h = F.relu(h)
            else:  # emit
                emitted.append(h)
        return torch.cat(emitted + [h], -1) if emitted else h

    def forward(self, x):
        f = self.encode(x)
        return f if self.head_spec is None else self.head_out(f)


def canonical_state(model):
    """name -> tensor of everything the canonical weights hold: parameters, then BN running stats
    (torch's num_batches_tracked is not part of them: momentum is fixed, so it is never read)."""
    return OrderedDict((n, t) for n, t in model.state_dict(keep_vars=True).items() if not n.endswith('.num_batches_tracked'))
