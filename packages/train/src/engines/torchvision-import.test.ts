import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, encoderWeightsShapes, headSpec, initWeights, readSafetensors } from '@cxr-ssl/models';
import { importTorchvision } from '@cxr-ssl/models/import';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { encoderForward, paramsFromWeights, setupTfjs } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptimizerConfig } from '../engine.ts';
import { TorchEngine } from './torch.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/torchvision-import.test.ts');
const REFERENCE = join(PYTHON_PACKAGE_DIR, 'tests', 'torchvision_reference.py');

const relDiff = (got: Float32Array, want: Float32Array) => {
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { rel: got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0) / scale, scale };
};

/**
 * torchvision ImageNet weights through our importer into the three runtimes. The reference is
 * torchvision's own module tree in plain torch (packages/torch/tests/torchvision_reference.py: same state
 * dict, same forward) with seeded random weights, saved as a .pth like the ImageNet files, fed the
 * grey X-ray copied to RGB and normalised the torchvision way; ours get the raw grey pixels.
 */
describe.skipIf('error' in python)('torchvision .pth import: our encoders equal torchvision on real X-rays', () => {
  const torchPython = 'error' in python ? '' : python.path;
  const cases = [
    ['vgg16-torchvision', 'vgg16', 32, 2],
    ['vgg16-bn-torchvision', 'vgg16_bn', 32, 2],
    ['resnet18-torchvision', 'resnet18', 64, 2],
    ['resnet50-torchvision', 'resnet50', 32, 2],
    ['densenet121-torchvision', 'densenet121', 32, 2], // saved under the legacy names of torchvision's download
  ] as const;
  let dir: string;
  const file = (name: string) => join(dir, name);
  const references = new Map<string, { x: Uint8Array; want: Float32Array }>();

  // one Python run saves every model's seeded random .pth and its features on n fixture X-rays
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torchvision-import-'));
    const args: string[] = [];
    for (const [, model, size, n] of cases) {
      const images = await fixtureImages(n, size);
      const x = new Uint8Array(n * size * size);
      for (const [i, img] of images.entries()) x.set(img.pixels, i * size * size);
      writeFileSync(file(`${model}-pixels.f32`), Float32Array.from(x));
      references.set(model, { x, want: new Float32Array() });
      args.push(model, file(`${model}.pth`), file(`${model}-pixels.f32`), file(`${model}-ref.f32`), String(n), String(size));
    }
    const run = spawnSync(torchPython, [REFERENCE, ...args], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`torchvision_reference.py failed: ${run.stderr}`);
    for (const [model, r] of references) {
      const ref = readFileSync(file(`${model}-ref.f32`));
      r.want = new Float32Array(ref.buffer, ref.byteOffset, ref.byteLength / 4);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [encoderName, model, size, n] of cases) {
    it(`${model}.pth -> ${encoderName}: torch engine, onnxruntime and tfjs within 1e-4 (relative) of torchvision`, async () => {
      const encoder = encoderSpec(encoderName);
      const { x, want } = references.get(model)!;
      const out = file(`${encoderName}.safetensors`);
      const { dropped } = importTorchvision(file(`${model}.pth`), out, encoderName, torchPython);
      expect(dropped.every((k) => k.startsWith('classifier.') || k.startsWith('fc.') || k.endsWith('.num_batches_tracked'))).toBe(true);
      const { weights, metadata } = readSafetensors(out);
      expect(metadata.encoder).toBe(encoderName);
      expect([...weights.keys()]).toEqual(encoderWeightsShapes(encoder).map((s) => s.name));
      expect(weights.get(encoder.ops[0].op === 'conv' ? `${encoder.ops[0].name}.weight` : '')?.shape[1]).toBe(3);
      const pixels = Float32Array.from(x);

      const session = await ort.InferenceSession.create(encoderOnnx(encoder, weights), { executionProviders: ['cpu'] });
      const onnx = (await session.run({ pixels: new ort.Tensor('float32', pixels, [n, 1, size, size]) })).features.data as Float32Array;
      await session.release();

      await setupTfjs('wasm');
      const params = paramsFromWeights(weights);
      const tfjs = tf.tidy(() => encoderForward(encoder, params, tf.tensor4d(pixels, [n, size, size, 1])).dataSync() as Float32Array);
      for (const t of params.values()) t.dispose();

      const head = headSpec('rotation', encoder);
      const engine = new TorchEngine({ device: 'cpu', threads: 2 });
      let torch: Float32Array;
      try {
        await engine.init({ encoder, head, weights: new Map([...initWeights(encoder, head, 1), ...weights]), optimizer: OptimizerConfig.parse({}), seed: 1 });
        torch = (await engine.forward(x, [n, 1, size, size])).features.data;
      } finally {
        await engine.close();
      }

      const diffs = { onnx: relDiff(onnx, want), tfjs: relDiff(tfjs, want), torch: relDiff(torch, want) };
      console.log(
        `${encoderName} vs torchvision ${model} (${n} X-rays, ${size} px, max |feature| ${diffs.onnx.scale.toFixed(3)}): relative max diff ` +
          Object.entries(diffs).map(([k, d]) => `${k} ${d.rel.toExponential(2)}`).join(', '),
      );
      expect(diffs.onnx.scale).toBeGreaterThan(1e-2);
      for (const d of Object.values(diffs)) expect(d.rel).toBeLessThanOrEqual(1e-4);
    });
  }

  it('refuses a .pth of another model, naming the file and the model it expected', () => {
    expect(() => importTorchvision(file('vgg16_bn.pth'), file('x.safetensors'), 'vgg16-torchvision', torchPython)).toThrow(
      `Importing torchvision vgg16 weights failed: ${file('vgg16_bn.pth')}: no features.2.weight. Expected a torchvision vgg16 state dict (for encoder vgg16-torchvision)`,
    );
    expect(() => importTorchvision(file('missing.pth'), file('x.safetensors'), 'resnet18-torchvision', torchPython)).toThrow(`${file('missing.pth')}: cannot load it`);
    expect(() => importTorchvision(file('vgg16_bn.pth'), file('x.safetensors'), 'vgg16', torchPython)).toThrow(
      'No torchvision import for encoder "vgg16". Choose one of: vgg16-torchvision, vgg16-bn-torchvision, resnet18-torchvision, resnet50-torchvision, densenet121-torchvision.',
    );
  });
});
