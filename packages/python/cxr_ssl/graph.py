"""An nn.Module from the encoder spec of config.json (cxr-ssl's ops graph: conv, bn, relu, relu6,
maxpool, add, gap). Layers are registered under their canonical torchvision names, so state_dict()
keys are the names in model.safetensors. Unlike cxr-ssl's training engine the input normalisation
is not part of the module: `Preprocess` applies it, as torchvision's transforms do."""
import math

import torch.nn.functional as F
from torch import nn


def _register(root, dotted, module):
    parts = dotted.split('.')
    node = root
    for part in parts[:-1]:
        child = node._modules.get(part)
        if child is None:
            child = nn.Module()
            node.add_module(part, child)
        node = child
    if parts[-1] in node._modules:
        raise ValueError('weight name "%s" is used twice in the encoder spec' % dotted)
    node.add_module(parts[-1], module)


def _same(size, k, stride):
    """TF 'SAME' padding (before, after) of one dimension (MobileNetV2's stride-2 convs)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class Encoder(nn.Module):
    """forward(x: float [N, in_chans, S, S], normalised) -> [N, feature_dim]."""

    def __init__(self, spec):
        super().__init__()
        self.spec_name = spec.get('name', '?')
        self.feature_dim = spec['features']
        self._ops = []
        self._layers = {}
        for op in spec['ops']:
            kind = op['op']
            if kind == 'conv':
                pad = op.get('pad', 0)
                m = nn.Conv2d(op['in'], op['out'], op['k'], stride=op.get('stride', 1), padding=0 if pad == 'same' else pad,
                              groups=op.get('groups', 1), bias=op.get('bias', True))
            elif kind == 'bn':
                m = nn.BatchNorm2d(op['channels'], eps=op.get('eps', 1e-5), momentum=op.get('momentum', 0.1))
            elif kind in ('relu', 'relu6', 'maxpool', 'add', 'gap'):
                m = None
            else:
                raise ValueError('unknown op "%s" (id %s) in encoder %s' % (kind, op.get('id'), self.spec_name))
            if m is not None:
                _register(self, op['name'], m)
                self._layers[op['id']] = m
            self._ops.append(op)

    def forward(self, x):
        values = {}
        prev = x
        for op in self._ops:
            kind = op['op']
            if kind == 'add':
                a, b = op['inputs']
                y = values[a] + values[b]
            else:
                inp = values[op['input']] if op.get('input') else prev
                if kind == 'conv':
                    if op.get('pad', 0) == 'same':
                        top, bottom = _same(inp.shape[2], op['k'], op.get('stride', 1))
                        left, right = _same(inp.shape[3], op['k'], op.get('stride', 1))
                        inp = F.pad(inp, (left, right, top, bottom))
                    y = self._layers[op['id']](inp)
                elif kind == 'bn':
                    y = self._layers[op['id']](inp)
                elif kind == 'relu':
                    y = F.relu(inp)
                elif kind == 'relu6':
                    y = F.relu6(inp)
                elif kind == 'maxpool':
                    y = F.max_pool2d(inp, op['k'], op['stride'], op.get('pad', 0))
                else:  # gap
                    y = inp.mean(dim=(2, 3))
            values[op['id']] = y
            prev = y
        return prev
