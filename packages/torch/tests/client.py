"""A test-side client of the server's pipe protocol (TypeScript's protocol.ts is the real one)."""
import json
import os
import struct
import subprocess
import sys
from collections import OrderedDict

import torch

from cxr_ssl.safetensors_io import write_safetensors
from cxr_torch.model import PretextNet

PKG = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))


def frame(header, payload=b''):
    header = dict(header, bytes=len(payload))
    raw = json.dumps(header).encode()
    return struct.pack('<I', len(raw)) + raw + payload


def batch_payload(x, y=None):
    out = bytes(x.contiguous().flatten().tolist())
    if y is not None:
        out += struct.pack('<%di' % len(y), *[int(v) for v in y])
    return out


def start():
    return subprocess.Popen([sys.executable, '-m', 'cxr_torch.server'], cwd=PKG, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def initial_weights(folder, encoder, head, seed=0):
    torch.manual_seed(seed)
    net = PretextNet(encoder, head)
    path = os.path.join(folder, 'init.safetensors')
    write_safetensors(path, OrderedDict((n, p.detach()) for n, p in net.named_parameters()))
    return net, path


def init_request(encoder, head, weights_path, **extra):
    req = {'type': 'init', 'encoder': encoder, 'head': head, 'seed': 1, 'device': 'cpu', 'threads': 1,
           'optimizer': {'name': 'sgd', 'lr': 0.01, 'momentum': 0.9, 'weightDecay': 0.0005, 'trustCoefficient': 0.001},
           'loss': {'name': 'cross-entropy'},
           'weightsPath': weights_path}
    req.update(extra)
    return req
