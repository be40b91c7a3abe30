"""The safetensors format (https://github.com/huggingface/safetensors) with torch and the standard library
only, read and written the same way by load_encoder and the torch engine (which imports this module):
an 8-byte little-endian header length, a UTF-8 JSON header {name: {dtype, shape, data_offsets}}, then
raw little-endian tensors. Not the `safetensors` package: Debian, whose python3-torch runs the engine
too, has no python3-safetensors, and the user package needs torch alone."""
import ctypes
import json
import os
import struct
import tempfile
from collections import OrderedDict

import torch

DTYPES = {
    'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64,
    'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8,
}


def load_safetensors(path):
    """-> (OrderedDict name -> CPU tensor in data order, metadata dict). Errors name the file and tensor."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError('%s: not a safetensors file (%d bytes, shorter than its 8-byte header length)' % (path, len(raw)))
    (n,) = struct.unpack('<Q', raw[:8])
    if 8 + n > len(raw):
        raise ValueError('%s: header length %d runs past the end of the file (%d bytes): truncated file?' % (path, n, len(raw)))
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', None) or {}
    data = memoryview(raw)[8 + n:]
    out = OrderedDict()
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        dtype = DTYPES.get(info['dtype'])
        if dtype is None:
            raise ValueError('%s: tensor %s has dtype %s, not one of %s' % (path, name, info['dtype'], ', '.join(DTYPES)))
        begin, end = info['data_offsets']
        shape = info['shape']
        count = 1
        for d in shape:
            count *= d
        if end - begin != count * torch.empty(0, dtype=dtype).element_size() or end > len(data):
            raise ValueError('%s: tensor %s: bytes %d..%d of %d for shape %s %s (truncated file?)'
                             % (path, name, begin, end, len(data), shape, info['dtype']))
        # a writable copy: torch.frombuffer warns on read-only memory
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape) if count else torch.empty(shape, dtype=dtype)
    return out, meta


def read_safetensors(path):
    """-> OrderedDict name -> float32 CPU tensor (F16/BF16 widened): the engine's weights and checkpoints."""
    tensors, _ = load_safetensors(path)
    for name, t in tensors.items():
        if not t.is_floating_point():
            raise ValueError('%s: tensor %s is %s, expected floating-point weights' % (path, name, t.dtype))
        tensors[name] = t.float()
    return tensors


def tensor_bytes(t):
    """Raw little-endian bytes of a tensor as float32, without numpy."""
    t = t.detach().to('cpu', torch.float32).contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * 4) if t.numel() else b''


def write_safetensors(path, tensors, metadata=None):
    """`tensors` (ordered name -> tensor) as F32 in that order; atomic: a temp file in the same folder,
    fsync, rename."""
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
    head += b' ' * ((8 - len(head) % 8) % 8)  # keep the data 8-byte aligned, as the format recommends
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
