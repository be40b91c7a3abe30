"""Embeds X-rays with an exported cxr-ssl encoder in plain torch and compares with its ONNX file.

    python embed_and_compare.py <export dir> <image files...>

Needs torch, Pillow, numpy and onnxruntime (pip install ./packages/python[images,onnx])."""
import sys

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image

from cxr_ssl import load_encoder

folder, files = sys.argv[1], sys.argv[2:]
model, preprocess = load_encoder(folder)
pixels = torch.stack([preprocess.pixels(Image.open(f)) for f in files])  # [N, 1, S, S] grey 0..255
with torch.no_grad():
    ours = model(torch.stack([preprocess.normalise(p) for p in pixels]))
session = ort.InferenceSession(f'{folder}/encoder.onnx', providers=['CPUExecutionProvider'])
onnx = session.run(['features'], {'pixels': pixels.numpy().astype(np.float32)})[0]
diff = np.abs(ours.numpy() - onnx).max()
print(f'{len(files)} images -> features {tuple(ours.shape)}; max |torch - onnx| = {diff:.2e} (max |feature| {np.abs(onnx).max():.3f})')
sys.exit(0 if diff <= 1e-4 else 1)
