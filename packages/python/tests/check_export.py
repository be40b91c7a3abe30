"""Checks an exported encoder folder from the outside, as a user would (run by
packages/train/src/export/hub.test.ts, and by hand):

    python tests/check_export.py <export dir> <images.u8> <n> <onnx features.f32>

images.u8: n grey images of the export's input size, row-major uint8; features: what the ONNX
encoder gave for them (float32 [n, F]). Prints one JSON line: for each module load_encoder can build
here (`auto`, and `graph` / `twin` / `torchvision` where the architecture has them), the class it
returned, the largest |difference| between its output and ONNX's, and, for a torchvision twin, whether a
forward hook on its last block (cxr_ssl.LAST_BLOCK: `layer4`, `features`) fired and what it saw; for an
export with timm's fields, what `timm.create_model('local-dir:<dir>', pretrained=True)` gives (where timm
imports)."""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cxr_ssl import LAST_BLOCK, load_encoder, read_config  # noqa: E402


def check(folder, module, x, onnx):
    try:
        model, _ = load_encoder(folder, module=module)
    except RuntimeError as e:
        return {'error': str(e)}
    out = {'class': '%s.%s' % (type(model).__module__, type(model).__name__), 'source': model.cxr_ssl_module}
    arch = read_config(folder)['torchvision_architecture']
    seen = []
    if module != 'graph' and arch in LAST_BLOCK:
        block = model.get_submodule(LAST_BLOCK[arch])
        block.register_forward_hook(lambda _m, _i, output: seen.append(list(output.shape)))
        if arch.startswith('resnet'):
            out['last_block_indexed'] = type(model.layer4[-1]).__name__  # what Grad-CAM code does
    with torch.no_grad():
        ours = model(x)
    out['max_abs_diff_onnx'] = (ours - onnx).abs().max().item()
    out['shape'] = list(ours.shape)
    if seen:
        out['hook'] = seen[0]
    return out


def main():
    folder, images_path, n, features_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model, preprocess = load_encoder(folder)
    size = preprocess.size
    raw = torch.frombuffer(bytearray(Path(images_path).read_bytes()), dtype=torch.uint8).reshape(n, size[0], size[1])
    x = torch.stack([preprocess(raw[i]) for i in range(n)])
    onnx = torch.frombuffer(bytearray(Path(features_path).read_bytes()), dtype=torch.float32).reshape(n, -1)
    has_twin = read_config(folder)['torchvision_architecture'] in LAST_BLOCK
    modules = ('auto', 'graph', 'twin', 'torchvision') if has_twin else ('auto',)
    out = {'torch': torch.__version__, 'max_abs_onnx': onnx.abs().max().item(),
           'modules': {m: check(folder, m, x, onnx) for m in modules}}
    if 'pretrained_cfg' in read_config(folder):
        out['timm'] = check_timm(folder, x, onnx)
    print(json.dumps(out))


def check_timm(folder, x, onnx):
    """timm.create_model('local-dir:<folder>', pretrained=True): timm's own loader reading config.json and
    model.safetensors (strictly), fed the same normalised input."""
    try:
        import timm
        from timm.data import resolve_data_config
    except Exception as e:  # noqa: BLE001 - not installed, or its torchvision does not import
        return {'error': 'timm does not import here (%s: %s)' % (type(e).__name__, e)}
    model = timm.create_model('local-dir:' + str(Path(folder).resolve()), pretrained=True).eval()
    with torch.no_grad():
        ours = model(x)
    data = resolve_data_config({}, model=model)
    return {'timm': timm.__version__, 'class': '%s.%s' % (type(model).__module__, type(model).__name__),
            'max_abs_diff_onnx': (ours - onnx).abs().max().item(), 'shape': list(ours.shape),
            'data_config': {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}}


if __name__ == '__main__':
    main()
