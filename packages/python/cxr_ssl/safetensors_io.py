"""A safetensors reader (https://github.com/huggingface/safetensors) without the safetensors package:
8-byte little-endian header length, a JSON header, then raw little-endian tensors."""
import json
import struct

import torch

DTYPES = {
    'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64,
    'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8,
}


def load_safetensors(path):
    """Returns (OrderedDict name -> tensor, metadata dict). Errors name the file."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError('%s: not a safetensors file (%d bytes)' % (path, len(raw)))
    (n,) = struct.unpack('<Q', raw[:8])
    if 8 + n > len(raw):
        raise ValueError('%s: header length %d runs past the end of the file (%d bytes)' % (path, n, len(raw)))
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {}) or {}
    data = raw[8 + n:]
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        dtype = DTYPES.get(info['dtype'])
        if dtype is None:
            raise ValueError('%s: tensor %s has dtype %s, not one of %s' % (path, name, info['dtype'], ', '.join(DTYPES)))
        begin, end = info['data_offsets']
        if end > len(data):
            raise ValueError('%s: tensor %s ends at byte %d of %d data bytes (truncated file?)' % (path, name, end, len(data)))
        buf = bytearray(data[begin:end])  # writable copy: torch.frombuffer warns on read-only memory
        t = torch.frombuffer(buf, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info['shape']).clone()
    return out, meta
