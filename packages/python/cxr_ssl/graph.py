"""The one Python interpreter of cxr-ssl's ops graph (packages/models/src/spec.ts `Op`: conv, bn, relu,
relu6, maxpool, avgpool, add, concat, gap), shared by load_encoder and the torch engine (packages/torch imports it).
Layers are registered under their canonical torchvision names, so state_dict() keys are the names in
the safetensors files. Every op field is read as written: TypeScript fills them all (the engine's
schema requires them; an export's config.json has them), so there are no defaults here."""
import functools
import math
import operator

import torch
import torch.nn.functional as F
from torch import nn

LAYER_OPS = ('conv', 'bn')  # the ops with weights: a module under the op's canonical `name`
PLAIN_OPS = {'relu': F.relu, 'relu6': F.relu6, 'gap': lambda x: x.mean(dim=(2, 3)), 'add': operator.add,
             'concat': lambda *xs: torch.cat(xs, dim=1)}
MULTI_INPUT_OPS = ('add', 'concat')  # read `inputs` (a list of op ids), not `input`
OPS = LAYER_OPS + ('maxpool', 'avgpool') + tuple(PLAIN_OPS)


def register(root, dotted, module):
    """Puts `module` at the dotted canonical name under `root`, making plain containers on the way."""
    parts = dotted.split('.')
    node = root
    for part in parts[:-1]:
        child = node._modules.get(part)
        if child is None:
            child = nn.Module()
            node.add_module(part, child)
        node = child
    if parts[-1] in node._modules:
        raise ValueError('weight name "%s" is used twice in the spec' % dotted)
    node.add_module(parts[-1], module)
    return module


def same_padding(size, k, stride):
    """TF 'SAME' padding (before, after) of one spatial dimension; asymmetric for MobileNetV2's stride 2."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def layer(op):
    """The torch module of a conv or bn op."""
    if op['op'] == 'conv':
        pad = op['pad']
        return nn.Conv2d(op['in'], op['out'], op['k'], stride=op['stride'], padding=0 if pad == 'same' else pad,
                         groups=op['groups'], bias=op['bias'])
    return nn.BatchNorm2d(op['channels'], eps=op['eps'], momentum=op['momentum'])


class SamePaddedConv:
    """A conv with TF 'SAME' padding, worked out from the input's size. An object, not a closure:
    copy.deepcopy of a model (a method's moving-average copy) then copies the conv it runs too."""

    def __init__(self, conv, k, stride):
        self.conv, self.k, self.stride = conv, k, stride

    def __call__(self, x):
        top, bottom = same_padding(x.shape[2], self.k, self.stride)
        left, right = same_padding(x.shape[3], self.k, self.stride)
        return self.conv(F.pad(x, (left, right, top, bottom)) if top or bottom or left or right else x)


def step(op, module):
    """One op as a function of its input tensor(s); every field is read here, once, not per forward.
    Only objects hold a module (see SamePaddedConv)."""
    kind = op['op']
    if kind == 'conv' and op['pad'] == 'same':
        return SamePaddedConv(module, op['k'], op['stride'])
    if kind in LAYER_OPS:
        return module
    if kind == 'maxpool':
        return functools.partial(F.max_pool2d, kernel_size=op['k'], stride=op['stride'], padding=op['pad'])
    if kind == 'avgpool':
        return functools.partial(F.avg_pool2d, kernel_size=op['k'], stride=op['stride'])
    return PLAIN_OPS[kind]


class Graph:
    """Runs the ops graph on [N, C, S, S] float input (already normalised) and returns [N, features]. A
    plain object, not a module: its layers live in `root` under their canonical names."""

    def __init__(self, spec, root):
        self.name = spec['name']
        self.ops = spec['ops']
        for i, op in enumerate(self.ops):
            if op['op'] not in OPS:
                raise ValueError('unknown op "%s" (op %d) in encoder %s: expected one of %s' % (op['op'], i, self.name, ', '.join(OPS)))
        self._build(lambda op: register(root, op['name'], layer(op)))

    def rebind(self, root):
        """Points the graph at the modules now under `root` (SyncBatchNorm conversion replaces them)."""
        self._build(lambda op: root.get_submodule(op['name']))

    def _build(self, module_of):
        read = set()  # ids whose output a later op reads: kept during a forward, the others dropped
        self.steps = []  # (id, input ids or None for the previous op's output, function, keep the output)
        for op in self.ops:
            try:
                inputs = op['inputs'] if op['op'] in MULTI_INPUT_OPS else [op['input']] if 'input' in op else None
                self.steps.append([op['id'], inputs, step(op, module_of(op) if op['op'] in LAYER_OPS else None)])
            except KeyError as e:
                raise ValueError('encoder %s: op %s (%s) has no field %s; cxr-ssl writes every op field (a graph from '
                                 'another tool or edited by hand? export the run again: cxr-ssl export <run> --out <dir>)'
                                 % (self.name, op['id'] if 'id' in op else '?', op['op'], e)) from None
            read.update(inputs or [])
        for s in self.steps:
            s.append(s[0] in read)

    def __call__(self, x):
        kept = {}
        for op_id, inputs, fn, keep in self.steps:
            x = fn(*[kept[i] for i in inputs]) if inputs else fn(x)
            if keep:
                kept[op_id] = x
        return x


class Encoder(nn.Module):
    """An nn.Module of the graph: forward(x: float [N, in_chans, S, S], normalised) -> [N, feature_dim]."""

    def __init__(self, spec):
        super().__init__()
        self.feature_dim = spec['features']
        self.graph = Graph(spec, self)

    def forward(self, x):
        return self.graph(x)
