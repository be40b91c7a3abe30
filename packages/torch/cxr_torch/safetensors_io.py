"""Minimal safetensors reader/writer (stdlib + torch), the format both engines share.

Layout: u64 LE header length, UTF-8 JSON header {name: {dtype, shape, data_offsets}}, raw LE data.
Tensors are written in the given order (canonical order) and read back in data-offset order.
"""
import ctypes
import json
import os
import struct
import tempfile
from collections import OrderedDict

import torch

_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16}


def read_safetensors(path):
    """-> OrderedDict name -> float32 CPU tensor (F16/BF16 widened)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError('%s: not a safetensors file (shorter than its 8-byte header length)' % path)
    (n,) = struct.unpack('<Q', raw[:8])
    if 8 + n > len(raw):
        raise ValueError('%s: header length %d runs past the end of the file (%d bytes): truncated file?' % (path, n, len(raw)))
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    data = memoryview(raw)[8 + n:]
    out = OrderedDict()
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        dtype = _DTYPES.get(info['dtype'])
        if dtype is None:
            raise ValueError('%s: tensor %s has dtype %s; only F32, F16 and BF16 are supported' % (path, name, info['dtype']))
        start, end = info['data_offsets']
        shape = info['shape']
        count = 1
        for d in shape:
            count *= d
        itemsize = torch.tensor([], dtype=dtype).element_size()
        if end - start != count * itemsize or end > len(data):
            raise ValueError('%s: tensor %s: %d bytes for shape %s %s' % (path, name, end - start, shape, info['dtype']))
        if count == 0:
            t = torch.zeros(shape, dtype=torch.float32)
        else:
            t = torch.frombuffer(bytearray(data[start:end]), dtype=dtype).reshape(shape).float()
        out[name] = t
    return out


def tensor_bytes(t):
    """Raw little-endian bytes of a CPU float32 tensor, without numpy."""
    t = t.detach().to('cpu', torch.float32).contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * 4) if t.numel() else b''


def write_safetensors(path, tensors, metadata=None):
    """Atomic write: temp file in the same folder + fsync + rename. `tensors`: ordered name -> tensor."""
    header = OrderedDict()
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    head = json.dumps(header, separators=(',', ':')).encode('utf-8')
    head += b' ' * ((8 - len(head) % 8) % 8)  # keep the data 8-byte aligned, as the spec recommends
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(struct.pack('<Q', len(head)))
            f.write(head)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
