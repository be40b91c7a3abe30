"""Real X-rays for the Python tests: the committed kermany-mini PNGs, decoded with zlib (no PIL)."""
import os
import struct
import zlib

import cxr_torch  # noqa: F401 - puts the repository's cxr_ssl (packages/python) on the path, as in the engine
import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
FIXTURE = os.path.join(ROOT, 'fixtures', 'kermany-mini', 'train')


def _unfilter(rows, width, bpp):
    out = []
    prev = bytearray(width * bpp)
    for ftype, line in rows:
        cur = bytearray(line)
        for i in range(len(cur)):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                cur[i] = (cur[i] + a) & 255
            elif ftype == 2:
                cur[i] = (cur[i] + b) & 255
            elif ftype == 3:
                cur[i] = (cur[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 255
        out.append(cur)
        prev = cur
    return out


def read_png_grey(path):
    """8-bit grey/RGB/RGBA non-interlaced PNG -> uint8 tensor [H, W] (first channel: the images are grey)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('%s is not a PNG' % path)
    pos, idat, width = 8, b'', 0
    while pos < len(data):
        (n,) = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or interlace or colour not in (0, 2, 4, 6):
                raise ValueError('%s: only 8-bit non-interlaced grey/RGB(A) PNGs are supported' % path)
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    rows = [(raw[r * stride], raw[r * stride + 1:(r + 1) * stride]) for r in range(height)]
    pixels = bytearray().join(_unfilter(rows, width, bpp))
    t = torch.frombuffer(pixels, dtype=torch.uint8).reshape(height, width, bpp)
    return t[:, :, 0].clone()


def xrays(count, size):
    """`count` real fixture X-rays (NORMAL and PNEUMONIA alternating), resized to size x size: uint8 [N, S, S]."""
    normal = sorted(os.listdir(os.path.join(FIXTURE, 'NORMAL')))
    pneu = sorted(os.listdir(os.path.join(FIXTURE, 'PNEUMONIA')))
    paths = []
    for i in range(count):
        folder, names = ('NORMAL', normal) if i % 2 == 0 else ('PNEUMONIA', pneu)
        paths.append(os.path.join(FIXTURE, folder, names[(i // 2) % len(names)]))
    imgs = torch.stack([read_png_grey(p) for p in paths]).float().unsqueeze(1)
    if imgs.shape[-1] != size:
        imgs = F.interpolate(imgs, size=(size, size), mode='area')
    return imgs.round().clamp(0, 255).to(torch.uint8).squeeze(1)


def rotation_batch(count, size):
    """Rotation pretext batch from real X-rays: x uint8 [B, 1, S, S], y = quarter turns."""
    imgs = xrays(count, size)
    y = torch.arange(count) % 4
    x = torch.stack([torch.rot90(img, int(k), dims=(0, 1)) for img, k in zip(imgs, y)]).unsqueeze(1)
    return x.contiguous(), y.to(torch.int32)


# what packages/models/src/spec.ts inputNormalisation gives for these norms (the engine gets the numbers)
NORMALISATION = {
    'per-view': {'type': 'per-image', 'name': 'per-view', 'eps': 1e-5},
    'minus1to1': {'type': 'affine', 'name': 'minus1to1', 'divide': 127.5, 'mean': [1], 'std': [1]},
    'torchvision-rgb': {'type': 'affine', 'name': 'torchvision-rgb', 'divide': 255, 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]},
    'caffe-bgr': {'type': 'affine', 'name': 'caffe-bgr', 'divide': 1, 'mean': [103.939, 116.779, 123.68], 'std': [1, 1, 1]},
}


def vgg_spec(name, blocks, input_norm='per-view', bn=False):
    """The same VGG spec packages/models/src/encoders/vgg.ts builds (torchvision indexing), as the engine
    gets it (models/src/torch-model.ts: with its normalisation's numbers); the ImageNet RGB norms give the
    first conv 3 input channels (encoders/imagenet-input.ts)."""
    ops, index = [], 0
    channels = 3 if input_norm in ('torchvision-rgb', 'caffe-bgr') else 1
    for block in blocks:
        for width in block:
            ops.append({'op': 'conv', 'id': 'features.%d' % index, 'name': 'features.%d' % index, 'in': channels,
                        'out': width, 'k': 3, 'stride': 1, 'pad': 1, 'groups': 1, 'bias': True})
            index += 1
            if bn:
                ops.append({'op': 'bn', 'id': 'features.%d' % index, 'name': 'features.%d' % index, 'channels': width,
                            'eps': 1e-5, 'momentum': 0.1})
                index += 1
            ops.append({'op': 'relu', 'id': 'features.%d' % index})
            index += 1
            channels = width
        ops.append({'op': 'maxpool', 'id': 'features.%d' % index, 'k': 2, 'stride': 2, 'pad': 0})
        index += 1
    ops.append({'op': 'gap', 'id': 'gap'})
    return {'name': name, 'channels': 1, 'inputNorm': input_norm, 'normalisation': NORMALISATION[input_norm], 'ops': ops, 'features': channels}


VGG16_BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
TINY = vgg_spec('tiny', [[8], [16]])


def bn_layer(name):
    return {'layer': 'bn', 'name': name, 'eps': 1e-5, 'momentum': 0.1}


def mlp_head(features, hidden, out, views=2, bn=None):
    """A projector head as the engine gets it (models' projectorHead through torchModel: each layer's input
    width in `inputs`, the output's part widths in `parts`): dense head.fc1 (+ BatchNorm `bn`) + relu ->
    dense head.fc2."""
    layers = [{'layer': 'dense', 'name': 'head.fc1', 'out': hidden}] + ([bn_layer(bn)] if bn else [])
    layers += [{'layer': 'relu'}, {'layer': 'dense', 'name': 'head.fc2', 'out': out}]
    return {'kind': 'projector', 'views': views, 'layers': layers, 'inputs': [features] + [hidden] * (len(layers) - 1), 'parts': [out]}
