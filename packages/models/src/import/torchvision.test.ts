import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encoderSpec } from '../encoders/index.ts';
import { encoderOnnx } from '../onnx/encoder.ts';
import { readSafetensors } from '../safetensors.ts';
import { encoderWeightsShapes } from '../shapes.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { importTorchvisionVgg16, TORCH_PYTHON_DIR } from './torchvision.ts';

const PYTHON = '/usr/bin/python3';
const hasTorchvision = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;

function python(script: string, ...args: string[]): string {
  const run = spawnSync(PYTHON, ['-c', script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: TORCH_PYTHON_DIR },
  });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/**
 * torchvision's real VGG16 (random weights, nothing downloaded; conv biases randomised too, as
 * torchvision zeroes them), saved as a .pth like the ImageNet file, and its reference features:
 * torchvision `features` then global average pooling, on the grey image standardised per view
 * (our vgg16's inputNorm) and replicated to 3 channels.
 */
const TORCHVISION_REFERENCE = `
import sys, torch, torchvision
pth, pixels, ref, n, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(0)
model = torchvision.models.vgg16(init_weights=False).eval()
for m in model.features:
    if isinstance(m, torch.nn.Conv2d):
        torch.nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        torch.nn.init.uniform_(m.bias, -0.05, 0.05)
state = model.state_dict()
# the importer drops the classifier: keep its keys, not its 480 MB
state = {k: (v[:2].clone() if k.startswith('classifier.') else v) for k, v in state.items()}
torch.save(state, pth)
torch.save({'features.0.weight': torch.zeros(64, 3, 3, 3)}, pth.replace('vgg16.pth', 'other.pth'))  # not a vgg16
x = torch.frombuffer(bytearray(open(pixels, 'rb').read()), dtype=torch.float32).reshape(n, 1, size, size)
mean = x.mean(dim=(1, 2, 3), keepdim=True)
var = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
rgb = ((x - mean) / torch.sqrt(var + 1e-5)).repeat(1, 3, 1, 1)
with torch.no_grad():
    feats = model.features(rgb).mean(dim=(2, 3))
open(ref, 'wb').write(feats.contiguous().numpy().tobytes())
`;

/** Our Python torch engine's model (cxr_torch.model.PretextNet) on the imported safetensors. */
const OUR_TORCH_MODEL = `
import json, sys, torch
from cxr_torch.model import PretextNet
from cxr_torch.safetensors_io import read_safetensors
spec, weights, pixels, ref, n, size = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
net = PretextNet(json.load(open(spec))).eval()
net.load_state_dict(read_safetensors(weights))
x = torch.frombuffer(bytearray(open(pixels, 'rb').read()), dtype=torch.float32).reshape(n, 1, size, size)
want = torch.frombuffer(bytearray(open(ref, 'rb').read()), dtype=torch.float32).reshape(n, -1)
with torch.no_grad():
    got = net.encode(x).reshape(n, -1)
print(json.dumps({'diff': (got - want).abs().max().item(), 'scale': want.abs().max().item()}))
`;

describe.skipIf(!hasTorchvision)(`importTorchvisionVgg16 (skipped: ${PYTHON} lacks torch/torchvision)`, () => {
  const n = 2;
  const size = 32;
  const spec = encoderSpec('vgg16');
  let dir: string;
  let pixels: Float32Array;
  let reference: Float32Array;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torchvision-vgg16-'));
    const images = await fixtureImages(n, size);
    pixels = new Float32Array(n * size * size);
    for (const [i, img] of images.entries()) pixels.set(img.pixels, i * size * size);
    writeFileSync(file('pixels.f32'), pixels);
    python(TORCHVISION_REFERENCE, file('vgg16.pth'), file('pixels.f32'), file('ref.f32'), String(n), String(size));
    const ref = readFileSync(file('ref.f32'));
    reference = new Float32Array(ref.buffer, ref.byteOffset, ref.byteLength / 4);
    importTorchvisionVgg16(file('vgg16.pth'), file('vgg16.safetensors'), PYTHON);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const relDiff = (a: Float32Array, b: Float32Array) => {
    const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    return { rel: a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) / scale, scale };
  };

  it('writes the canonical vgg16 weights: features.N, features.0 summed to one channel, no classifier', () => {
    const { weights, metadata } = readSafetensors(file('vgg16.safetensors'));
    expect([...weights.keys()]).toEqual(encoderWeightsShapes(spec).map((s) => s.name));
    expect(weights.get('features.0.weight')?.shape).toEqual([64, 1, 3, 3]);
    expect(metadata.source).toBe('torchvision vgg16');
  });

  it('our ONNX on grey pixels equals torchvision features + GAP on the grey replicated to RGB', async () => {
    const { weights } = readSafetensors(file('vgg16.safetensors'));
    const session = await ort.InferenceSession.create(encoderOnnx(spec, weights), { executionProviders: ['cpu'] });
    const out = await session.run({ pixels: new ort.Tensor('float32', pixels, [n, 1, size, size]) });
    await session.release();
    const { rel, scale } = relDiff(out.features.data as Float32Array, reference);
    console.log(`vgg16 from torchvision: onnx relative max diff ${rel.toExponential(2)} (max |feature| ${scale.toFixed(3)})`);
    expect(scale).toBeGreaterThan(1e-2);
    expect(rel).toBeLessThanOrEqual(1e-4);
  });

  it('our torch engine model with the imported weights equals torchvision too', () => {
    writeFileSync(file('spec.json'), JSON.stringify(spec));
    const answer = JSON.parse(
      python(OUR_TORCH_MODEL, file('spec.json'), file('vgg16.safetensors'), file('pixels.f32'), file('ref.f32'), String(n), String(size)),
    );
    console.log(`vgg16 from torchvision: cxr_torch relative max diff ${(answer.diff / answer.scale).toExponential(2)}`);
    expect(answer.diff / answer.scale).toBeLessThanOrEqual(1e-4);
  });

  it('refuses a state dict that is not torchvision vgg16, naming the file', () => {
    expect(() => importTorchvisionVgg16(file('other.pth'), file('other.safetensors'), PYTHON)).toThrow(
      `${file('other.pth')}: no features.0.bias. Expected a torchvision vgg16 state dict`,
    );
    expect(() => importTorchvisionVgg16(file('missing.pth'), file('x.safetensors'), PYTHON)).toThrow(`${file('missing.pth')}: cannot load it`);
  });
});
