import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { encoderSpec } from '../encoders/index.ts';
import { makeDivisible } from '../encoders/mobilenetv2.ts';
import { encoderOnnx } from '../onnx/encoder.ts';
import { writeSafetensors } from '../safetensors.ts';
import { encoderWeightsShapes } from '../shapes.ts';
import type { Weights } from '../spec.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderForward, paramsFromWeights } from '../tfjs/forward.ts';
import { mobilenetV2FromKeras } from './keras-mobilenetv2.ts';
import { importTfjsLayers } from './tfjs-layers.ts';
import { torchEncoder } from '../torch-model.ts';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';

const spec = encoderSpec('mobilenetv2-0.35');
const MODEL_DIR = resolve(repoRoot(), '..', 'shared', 'weights', 'mobilenetv2-0.35-imagenet-tfjs');
const haveModel = existsSync(join(MODEL_DIR, 'model.json'));
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

/** Our Python torch engine's model (cxr_torch.model.PretextNet) on the imported weights: max |ours - keras|. */
const TORCH_DIFF = `
import json, sys, torch
from cxr_torch.model import PretextNet
from cxr_ssl.safetensors_io import read_safetensors
folder, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: torch.frombuffer(bytearray(open(folder + '/' + name, 'rb').read()), dtype=torch.float32)
net = PretextNet(json.load(open(folder + '/spec.json'))).eval()
net.load_state_dict(read_safetensors(folder + '/weights.safetensors'))
with torch.no_grad():
    got = net.encode(load('pixels.f32').reshape(n, 1, size, size)).reshape(n, -1)
print((got - load('keras.f32').reshape(n, -1)).abs().max().item())
`;

describe('mobilenetv2-0.35 spec', () => {
  it('follows Keras: 52 convs (17 depthwise), 10 residual adds, 1280 features, widths from _make_divisible', () => {
    const convs = spec.ops.flatMap((op) => (op.op === 'conv' ? [op] : []));
    expect(convs).toHaveLength(52);
    expect(convs.filter((c) => c.groups > 1 && c.groups === c.in && c.in === c.out)).toHaveLength(17);
    expect(spec.ops.filter((op) => op.op === 'add').map((op) => op.id)).toEqual(
      [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map((i) => `block_${i}_add`),
    );
    const projections = convs.filter((c) => c.name.endsWith('_project')).map((c) => c.out);
    expect([...new Set(projections)]).toEqual([8, 16, 24, 32, 56, 112]);
    expect([makeDivisible(32 * 0.35), makeDivisible(160 * 0.35), makeDivisible(320 * 1.4)]).toEqual([16, 56, 448]);
    expect(spec.features).toBe(1280);
    expect(spec.inputNorm).toBe('minus1to1');
  });

  it('has Keras\'s parameter count once BatchNorm is folded and the stem is grey', () => {
    const shapes = encoderWeightsShapes(spec);
    const count = (kind: string) => shapes.filter((s) => s.kind === kind).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    const bnChannels = count('bias');
    // Keras: 410,208 = conv kernels (RGB stem) + 4 per BatchNorm channel (gamma, beta, mean, variance)
    expect(count('conv.weight') + bnChannels).toBe(410_208 - 3 * bnChannels - 2 * 16 * 3 * 3);
  });

  it('runs on other image sizes (TF "same" padding adapts): 96 px -> 1280 features', async () => {
    await tf.setBackend('cpu');
    const params = paramsFromWeights(new Map(encoderWeightsShapes(spec).map((s) => [s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.01) }])));
    const y = tf.tidy(() => encoderForward(spec, params, tf.fill([1, 96, 96, 1], 100) as tf.Tensor4D));
    expect(y.shape).toEqual([1, 1280]);
    for (const t of params.values()) t.dispose();
  });
});

describe.skipIf(!haveModel)(`ImageNet MobileNetV2 0.35 import (skipped: ${MODEL_DIR} absent)`, () => {
  const n = 4;
  const size = 224;
  let grey: Float32Array; // [n, 224, 224] raw 0..255
  let keras: Float32Array; // the original tfjs model's 1280-d features
  let weights: Weights;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const images = await fixtureImages(n, size);
    grey = new Float32Array(n * size * size);
    for (const [i, img] of images.entries()) grey.set(img.pixels, i * size * size);

    const modelJson = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8'));
    const bin = readFileSync(join(MODEL_DIR, 'weights.bin'));
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    // the Sequential's first layer is the feature extractor: MobileNetV2 (7x7x1280) + global average pooling
    const extractor = model.layers[0] as tfl.LayersModel;
    expect(extractor.outputs[0].shape).toEqual([null, 1280]);
    keras = tf.tidy(() => {
      const rgb = tf.tile(tf.sub(tf.div(tf.tensor4d(grey, [n, size, size, 1]), 127.5), 1), [1, 1, 1, 3]);
      return (extractor.predict(rgb) as tf.Tensor).dataSync() as Float32Array;
    });
    model.dispose();
    weights = mobilenetV2FromKeras(importTfjsLayers(MODEL_DIR), { source: MODEL_DIR });
  });

  const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it('uses BatchNorm epsilon 1e-3 throughout, the converter\'s default', () => {
    const text = readFileSync(join(MODEL_DIR, 'model.json'), 'utf8');
    const eps = [...text.matchAll(/"epsilon": ?([0-9.e-]+)/g)].map((m) => Number(m[1]));
    expect(eps).toHaveLength(52);
    expect(new Set(eps)).toEqual(new Set([1e-3]));
  });

  it('gives every canonical weight of the spec, in canonical order and shape', () => {
    expect([...weights.keys()]).toEqual(encoderWeightsShapes(spec).map((s) => s.name));
    for (const s of encoderWeightsShapes(spec)) expect(weights.get(s.name)?.shape).toEqual(s.shape);
  });

  it('reads in-memory artifacts the same as the folder', () => {
    const fromMemory = importTfjsLayers({
      modelJson: readFileSync(join(MODEL_DIR, 'model.json'), 'utf8'),
      weightsBin: readFileSync(join(MODEL_DIR, 'weights.bin')),
    });
    const fromDir = importTfjsLayers(MODEL_DIR);
    expect([...fromMemory.keys()]).toEqual([...fromDir.keys()]);
    expect(fromMemory.get('Conv_1_bn/moving_variance')?.data).toEqual(fromDir.get('Conv_1_bn/moving_variance')?.data);
  });

  it('our ONNX on grey pixels equals the original Keras model on the grey image replicated to RGB', async () => {
    const session = await ort.InferenceSession.create(encoderOnnx(spec, weights), { executionProviders: ['cpu'] });
    const out = await session.run({ pixels: new ort.Tensor('float32', grey, [n, 1, size, size]) });
    await session.release();
    const onnx = out.features.data as Float32Array;
    expect(out.features.dims).toEqual([n, 1280]);
    // real features: non-trivial and different per image
    expect(Math.max(...keras)).toBeGreaterThan(0.5);
    expect(maxAbsDiff(keras.subarray(0, 1280), keras.subarray(1280, 2560))).toBeGreaterThan(0.1);
    const diff = maxAbsDiff(onnx, keras);
    console.log(`mobilenetv2-0.35 ImageNet: max |onnx - keras| = ${diff.toExponential(2)} (features up to ${Math.max(...keras).toFixed(2)})`);
    expect(diff).toBeLessThanOrEqual(1e-4);

    const params = paramsFromWeights(weights);
    const ours = tf.tidy(() => encoderForward(spec, params, tf.tensor4d(grey, [n, size, size, 1])).dataSync() as Float32Array);
    for (const t of params.values()) t.dispose();
    const tfjsDiff = maxAbsDiff(ours, onnx);
    console.log(`mobilenetv2-0.35 ImageNet: max |tfjs encoderForward - onnx| = ${tfjsDiff.toExponential(2)}`);
    expect(tfjsDiff).toBeLessThanOrEqual(1e-4);
  });

  it.skipIf(!hasTorch)(`our torch engine model equals the Keras model too (skipped: ${PYTHON} lacks torch)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mobilenetv2-torch-'));
    try {
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(torchEncoder(spec)));
      writeSafetensors(join(dir, 'weights.safetensors'), weights);
      writeFileSync(join(dir, 'pixels.f32'), grey);
      writeFileSync(join(dir, 'keras.f32'), keras);
      const run = spawnSync(PYTHON, ['-c', TORCH_DIFF, dir, String(n), String(size)], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR },
      });
      expect(run.status, run.stderr).toBe(0);
      const diff = Number(run.stdout.trim());
      console.log(`mobilenetv2-0.35 ImageNet: max |cxr_torch - keras| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
