"""Embeds X-rays with an exported cxr-ssl encoder in plain torch, as a PyTorch user would, and compares
with its ONNX file: which module load_encoder returned, a forward hook on its last block (the Grad-CAM
pattern), the features against encoder.onnx, and timm.create_model('local-dir:<export>') where timm
imports and the export has timm's fields.

    python embed_and_compare.py <export dir> <image files...>

Needs torch, Pillow, numpy and onnxruntime (pip install 'cxr-ssl[images,onnx]'); timm is optional.
Exit 1 if a module's features differ from ONNX by more than 1e-4 of their scale."""
import sys

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image

from cxr_ssl import LAST_BLOCK, load_encoder, read_config

folder, files = sys.argv[1], sys.argv[2:]
config = read_config(folder)
model, preprocess = load_encoder(folder)
print(f'{folder}: {config["encoder"] if "encoder" in config else config["architecture"]} -> {type(model).__module__}.{type(model).__name__} ({model.cxr_ssl_module})')
pixels = torch.stack([preprocess.pixels(Image.open(f)) for f in files])  # [N, 1, S, S] grey 0..255
x = torch.stack([preprocess.normalise(p) for p in pixels])
arch = config['torchvision_architecture']
seen = []
if arch in LAST_BLOCK:
    block = model.get_submodule(LAST_BLOCK[arch])
    block.register_forward_hook(lambda _m, _i, out: seen.append(tuple(out.shape)))
with torch.no_grad():
    ours = model(x)
if arch in LAST_BLOCK:
    print(f'  forward hook on model.{LAST_BLOCK[arch]}: {"fired, output " + str(seen[0]) if seen else "DID NOT FIRE"}')
session = ort.InferenceSession(f'{folder}/encoder.onnx', providers=['CPUExecutionProvider'])
onnx = session.run(['features'], {'pixels': pixels.numpy().astype(np.float32)})[0]
scale = max(1.0, float(np.abs(onnx).max()))
diffs = {'load_encoder': float(np.abs(ours.numpy() - onnx).max())}
print(f'  {len(files)} images -> features {tuple(ours.shape)}; max |torch - onnx| = {diffs["load_encoder"]:.2e} (max |feature| {np.abs(onnx).max():.3f})')
if 'pretrained_cfg' in config:
    try:
        import timm
    except Exception as e:  # noqa: BLE001 - not installed, or its torchvision does not import with this torch
        print(f'  timm: not importable here ({type(e).__name__}: {e})')
    else:
        m = timm.create_model('local-dir:' + folder, pretrained=True).eval()
        with torch.no_grad():
            t = m(x)
        diffs['timm'] = float(np.abs(t.numpy() - onnx).max())
        cfg = timm.data.resolve_data_config({}, model=m)
        print(f'  timm {timm.__version__}: create_model("local-dir:...") -> {type(m).__module__}.{type(m).__name__}, '
              f'max |timm - onnx| = {diffs["timm"]:.2e}; data config input_size {cfg["input_size"]}, mean {cfg["mean"]}, std {cfg["std"]}')
sys.exit(0 if all(d <= 1e-4 * scale for d in diffs.values()) and (seen or arch not in LAST_BLOCK) else 1)
