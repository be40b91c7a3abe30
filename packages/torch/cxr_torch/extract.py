"""`python -m cxr_torch.extract request.json`: frozen-encoder features [N, F] (fp32, TF32 allowed on
CUDA) of rows of a dataset cache file, the torch twin of packages/eval/src/extract.ts (onnxruntime).

request.json: {encoder: TorchEncoder (models' torchEncoder), weightsPath (encoder safetensors), u8Path (N x S x S uint8),
size, count, indicesPath (int32 LE rows, output order), batchSize, device: auto|cpu|cuda, outPath,
tf32 (default true: TF32 convolutions and matmuls on CUDA)}.
Writes float32 LE rows x F to outPath (temporary name, then renamed) and prints JSON lines:
{"progress": done, "total": N} per batch, then {"ok": true, "dim": F, "device": ...}; a failure
is one line {"error", "traceback"} and exit 1.
"""
import json
import os
import struct
import sys
import traceback

import torch

from .lifeline import die_with_parent
from .model import PretextNet, canonical_state
from .protocol import buffer_of
from .trainer import load_named, pick_device


def say(obj):
    sys.stdout.write(json.dumps(obj, separators=(',', ':')) + '\n')
    sys.stdout.flush()


def read_indices(path, count):
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) % 4:
        raise ValueError('%s: %d bytes is not a whole number of int32 rows' % (path, len(raw)))
    rows = list(struct.unpack('<%di' % (len(raw) // 4), raw))
    for k, i in enumerate(rows):
        if not 0 <= i < count:
            raise ValueError('row %d at position %d is outside the %d images of the cache' % (i, k, count))
    return rows


def encoder_model(spec, weights_path, device):
    model = PretextNet(spec, None)
    weights = load_named(model, weights_path, 'encoder weights')
    with torch.no_grad():
        for name, t in canonical_state(model).items():
            t.copy_(weights[name])
    model.eval().to(device)
    if device.type == 'cuda':
        model.to(memory_format=torch.channels_last)
    return model


def extract(req):
    device = pick_device(req.get('device', 'auto'))
    cuda = device.type == 'cuda'
    if cuda:
        tf32 = bool(req.get('tf32', True))
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    model = encoder_model(req['encoder'], req['weightsPath'], device)
    size, count, batch = int(req['size']), int(req['count']), int(req['batchSize'])
    rows = read_indices(req['indicesPath'], count)
    px = size * size
    fd = os.open(req['u8Path'], os.O_RDONLY)
    if os.fstat(fd).st_size != count * px:
        raise ValueError('%s has %d bytes, expected %d x %d x %d' % (req['u8Path'], os.fstat(fd).st_size, count, size, size))
    dim = int(req['encoder']['features'])
    n = len(rows)
    out = torch.empty((n, dim), dtype=torch.float32)
    # two slots: the CPU reads batch k+1 from the file while the device computes batch k
    slots = [(torch.empty((batch, 1, 1, size, size), dtype=torch.uint8, pin_memory=cuda),
              torch.empty((batch, dim), dtype=torch.float32, pin_memory=cuda)) for _ in range(2)]
    waiting = [None, None]  # per slot: (event, start, m) of a batch whose features are still on their way

    def land(s):
        ev, start, m = waiting[s]
        ev.synchronize()
        out[start:start + m] = slots[s][1][:m]
        waiting[s] = None

    tmp = req['outPath'] + '.tmp-%d' % os.getpid()
    with torch.no_grad():
        for k, start in enumerate(range(0, n, batch)):
            s = k % 2
            m = min(batch, n - start)
            if waiting[s] is not None:
                land(s)
            hx, hf = slots[s]
            view = buffer_of(hx)
            for b in range(m):
                got = os.preadv(fd, [view[b * px:(b + 1) * px]], rows[start + b] * px)
                if got != px:
                    raise ValueError('%s: short read of row %d' % (req['u8Path'], rows[start + b]))
            x = hx[:m].to(device, non_blocking=True)
            f = model.encode(x.view(m, 1, size, size)).reshape(m, dim)
            if cuda:
                hf[:m].copy_(f, non_blocking=True)
                ev = torch.cuda.Event()
                ev.record()
                waiting[s] = (ev, start, m)
            else:
                out[start:start + m] = f
            say({'progress': start + m, 'total': n})
        for s in (0, 1):
            if waiting[s] is not None:
                land(s)
    os.close(fd)
    with open(tmp, 'wb') as f:
        f.write(buffer_of(out) if n else b'')
    os.replace(tmp, req['outPath'])
    desc = 'cuda:%d %s' % (device.index or 0, torch.cuda.get_device_name(device)) if cuda else 'cpu (%d threads)' % torch.get_num_threads()
    return {'ok': True, 'dim': dim, 'rows': n, 'device': desc, 'torch': torch.__version__}


def main():
    die_with_parent()
    try:
        with open(sys.argv[1]) as f:
            req = json.load(f)
        threads = int(req.get('threads') or 0)
        if threads > 0:
            torch.set_num_threads(threads)
        say(extract(req))
        return 0
    except BaseException as e:  # noqa: BLE001 - every failure must reach TypeScript as one line
        say({'error': '%s: %s' % (type(e).__name__, e), 'traceback': traceback.format_exc()})
        return 1


if __name__ == '__main__':
    sys.exit(main())
