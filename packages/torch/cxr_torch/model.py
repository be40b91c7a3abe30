"""Builds an nn.Module from the TypeScript EncoderSpec / HeadSpec JSON (packages/models/src/spec.ts).

Parameters are registered in nested container modules named after the canonical weight names
(`features.0.weight`, `head.fc1.bias`, ...), so `state_dict()` keys ARE the canonical names and
safetensors files written by TypeScript load without any mapping.
"""
import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-5


def _container(root, dotted):
    """Returns (parent module, last name) for a dotted name, creating plain containers on the way."""
    parts = dotted.split('.')
    node = root
    for part in parts[:-1]:
        child = node._modules.get(part)
        if child is None:
            child = nn.Module()
            node.add_module(part, child)
        node = child
    return node, parts[-1]


def _register(root, dotted, module):
    parent, last = _container(root, dotted)
    if last in parent._modules:
        raise ValueError('weight name "%s" is used twice in the spec' % dotted)
    parent.add_module(last, module)
    return module


def same_padding(size, k, stride):
    """TF 'SAME' padding (before, after) for one spatial dimension; may be asymmetric."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


# ImageNet models' own input scaling, channel c = (x / divide - mean[c]) / std[c] for grey x
# (packages/models/src/spec.ts RGB_INPUT_NORMS: torchvision RGB on [0, 1], Keras VGG16 caffe BGR).
RGB_INPUT_NORMS = {
    'torchvision-rgb': (255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    'caffe-bgr': (1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),
}


class InputNorm(nn.Module):
    """The spec's inputNorm: uint8 [N, 1, P, P] -> float32 [N, C, P, P] (float64 in the fp64 test mode,
    see PretextNet.double); C is 3 for the ImageNet RGB norms (the grey channel broadcast), else 1. Their per-channel
    constants are non-persistent buffers: on the model's device (no host copy per step), not in
    the state dict."""

    def __init__(self, mode):
        super().__init__()
        if mode not in ('per-view', 'minus1to1') and mode not in RGB_INPUT_NORMS:
            raise ValueError('unknown inputNorm "%s": expected per-view, minus1to1, %s' % (mode, ', '.join(RGB_INPUT_NORMS)))
        self.mode = mode
        self.dtype = torch.float32
        if mode in RGB_INPUT_NORMS:
            divide, mean, std = RGB_INPUT_NORMS[mode]
            self.divide = divide
            self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).reshape(1, 3, 1, 1), persistent=False)
            self.register_buffer('std', torch.tensor(std, dtype=torch.float32).reshape(1, 3, 1, 1), persistent=False)

    def forward(self, x):
        x = x.to(self.dtype)
        if self.mode == 'per-view':
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            var = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False)  # population variance, like tfjs/onnx
            return (x - mean) / torch.sqrt(var + EPS)
        if self.mode == 'minus1to1':
            return x / 127.5 - 1.0
        return (x / self.divide - self.mean) / self.std


def normalise(x, mode):
    """InputNorm(mode) applied once (tests, tools)."""
    return InputNorm(mode).to(x.device)(x)


class Graph:
    """Runs the ops graph on [N, 1, P, P] float input and returns [N, features]. A plain object, not
    a module: its layers are registered on the root module under their canonical names."""

    def __init__(self, spec, root):
        self.spec = spec
        self.steps = []  # (op dict, module or None); modules live in `root` under canonical names
        for op in spec['ops']:
            module = None
            if op['op'] == 'conv':
                pad = op.get('pad', 0)
                module = nn.Conv2d(
                    op['in'], op['out'], op['k'], stride=op.get('stride', 1),
                    padding=0 if pad == 'same' else pad,
                    groups=op.get('groups', 1), bias=op.get('bias', True))
                _register(root, op['name'], module)
            elif op['op'] == 'bn':
                module = nn.BatchNorm2d(op['channels'], eps=op.get('eps', EPS), momentum=op.get('momentum', 0.1))
                _register(root, op['name'], module)
            elif op['op'] not in ('relu', 'relu6', 'maxpool', 'add', 'gap'):
                raise ValueError('unknown op "%s" (id %s) in encoder %s' % (op['op'], op.get('id'), spec.get('name')))
            self.steps.append((op, module))

    def __call__(self, x):
        values = {}
        prev = x
        for op, module in self.steps:
            kind = op['op']
            if kind == 'add':
                a, b = op['inputs']
                y = values[a] + values[b]
            else:
                inp = values[op['input']] if op.get('input') else prev
                if kind == 'conv':
                    if op.get('pad', 0) == 'same':
                        k, s = op['k'], op.get('stride', 1)
                        top, bottom = same_padding(inp.shape[2], k, s)
                        left, right = same_padding(inp.shape[3], k, s)
                        if top or bottom or left or right:
                            inp = F.pad(inp, (left, right, top, bottom))
                    y = module(inp)
                elif kind == 'bn':
                    y = module(inp)
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


def is_projector(head_spec):
    return head_spec is not None and head_spec.get('kind') == 'projector'


def projector_widths(features, head_spec):
    """(width each layer takes in, widths of the output's parts: each `emit`, then the last layer);
    mirrors packages/models heads.ts projectorWidths."""
    width, inputs, parts = features, [], []
    for layer in head_spec['layers']:
        inputs.append(width)
        if layer['layer'] in ('dense', 'cosine'):
            width = layer['out']
        elif layer['layer'] == 'emit':
            parts.append(width)
    return inputs, parts + [width]


class PretextNet(nn.Module):
    """Shared encoder per view, then the head. Classifier: optional proj (linear+relu) -> concat ->
    fc1 + relu -> fc2 -> logits [B, classes]. Projector: its layer list per view -> [B, V, out_width],
    the emitted values then the last layer's (widths `out_parts`)."""

    def __init__(self, encoder_spec, head_spec=None):
        super().__init__()
        self.input_norm = InputNorm(encoder_spec['inputNorm'])
        self.graph = Graph(encoder_spec, self)
        self.head_spec = head_spec
        if head_spec is None:
            return
        features = encoder_spec['features']
        if is_projector(head_spec):
            inputs, self.out_parts = projector_widths(features, head_spec)
            self.out_width = sum(self.out_parts)
            for layer, width in zip(head_spec['layers'], inputs):
                kind = layer['layer']
                if kind in ('dense', 'cosine'):
                    _register(self, layer['name'], nn.Linear(width, layer['out'], bias=kind == 'dense'))
                elif kind == 'bn':  # BatchNorm2d on [N, C, 1, 1]: DDP's SyncBatchNorm/GlobalBatchNorm2d cover it
                    _register(self, layer['name'], nn.BatchNorm2d(width))
                elif kind not in ('relu', 'emit'):
                    raise ValueError('unknown projector head layer "%s"' % kind)
            return
        width = features
        if head_spec.get('proj'):
            _register(self, 'head.proj', nn.Linear(features, head_spec['proj']))
            width = head_spec['proj']
        _register(self, 'head.fc1', nn.Linear(head_spec['views'] * width, head_spec['hidden']))
        _register(self, 'head.fc2', nn.Linear(head_spec['hidden'], head_spec['classes']))

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
        if self.head_spec.get('proj'):
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


BUFFER_SUFFIXES = ('.running_mean', '.running_var')


def is_buffer(name):
    """BatchNorm running statistics: saved with the weights, no gradient, no optimiser state."""
    return name.endswith(BUFFER_SUFFIXES)


def canonical_state(model):
    """name -> tensor of everything the canonical weights hold: parameters, then BN running stats
    (torch's num_batches_tracked is not part of them: momentum is fixed, so it is never read)."""
    return OrderedDict((n, t) for n, t in model.state_dict(keep_vars=True).items() if not n.endswith('.num_batches_tracked'))


def encoder_shapes(encoder_spec):
    """The encoder's canonical weights, name -> shape, in canonical order (mirrors packages/models shapes.ts)."""
    shapes = OrderedDict()
    for op in encoder_spec['ops']:
        if op['op'] == 'conv':
            shapes[op['name'] + '.weight'] = (op['out'], op['in'] // op.get('groups', 1), op['k'], op['k'])
            if op.get('bias', True):
                shapes[op['name'] + '.bias'] = (op['out'],)
        elif op['op'] == 'bn':
            for suffix in ('.weight', '.bias', '.running_mean', '.running_var'):
                shapes[op['name'] + suffix] = (op['channels'],)
    return shapes


def canonical_names(encoder_spec, head_spec=None):
    """The canonical weight names in canonical order (mirrors packages/models shapes.ts + heads.ts)."""
    names = list(encoder_shapes(encoder_spec))
    if head_spec is None:
        return names

    def dense(layer):
        return [layer + '.weight', layer + '.bias']

    if not is_projector(head_spec):
        return names + (dense('head.proj') if head_spec.get('proj') else []) + dense('head.fc1') + dense('head.fc2')
    for layer in head_spec['layers']:
        kind, name = layer['layer'], layer.get('name')
        if kind == 'dense':
            names += dense(name)
        elif kind == 'cosine':
            names.append(name + '.weight')
        elif kind == 'bn':
            names += [name + s for s in ('.weight', '.bias', '.running_mean', '.running_var')]
    return names
