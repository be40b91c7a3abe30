import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encoderSpec } from '../encoders/index.ts';
import { initWeights } from '../init.ts';
import type { EncoderSpec, Weights } from '../spec.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderForward, paramsFromWeights } from '../tfjs/forward.ts';
import { setupTfjs } from '../tfjs/setup.ts';
import { encoderOnnx } from './encoder.ts';

async function onnxFeatures(spec: EncoderSpec, weights: Weights, pixels: Float32Array, n: number, size: number) {
  const session = await ort.InferenceSession.create(encoderOnnx(spec, weights), { executionProviders: ['cpu'] });
  try {
    const out = await session.run({ pixels: new ort.Tensor('float32', pixels, [n, 1, size, size]) });
    return { data: out.features.data as Float32Array, dims: out.features.dims };
  } finally {
    await session.release();
  }
}

async function tfjsFeatures(backend: 'cpu' | 'wasm', spec: EncoderSpec, weights: Weights, pixels: Float32Array, n: number, size: number) {
  await setupTfjs(backend);
  const params = paramsFromWeights(weights);
  try {
    return tf.tidy(() => encoderForward(spec, params, tf.tensor4d(pixels, [n, size, size, 1])).dataSync() as Float32Array);
  } finally {
    for (const t of params.values()) t.dispose();
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('encoderOnnx parity with the tfjs forward on real X-rays', () => {
  for (const [name, size, n] of [
    ['vgg-small', 64, 4],
    ['vgg16', 32, 2],
  ] as const) {
    it(`${name} at ${size} px: onnxruntime equals tfjs cpu and wasm within 1e-4`, async () => {
      const spec = encoderSpec(name);
      const weights = initWeights(spec, undefined, 11);
      const images = await fixtureImages(n, size);
      const pixels = new Float32Array(n * size * size);
      for (const [i, img] of images.entries()) pixels.set(img.pixels, i * size * size);

      const onnx = await onnxFeatures(spec, weights, pixels, n, size);
      expect(onnx.dims).toEqual([n, spec.features]);
      // features must carry signal: not all zero and different across images
      expect(Math.max(...onnx.data)).toBeGreaterThan(0);
      expect(maxAbsDiff(onnx.data.subarray(0, spec.features), onnx.data.subarray(spec.features, 2 * spec.features))).toBeGreaterThan(1e-3);
      for (const backend of ['cpu', 'wasm'] as const) {
        const feats = await tfjsFeatures(backend, spec, weights, pixels, n, size);
        expect(feats.length).toBe(onnx.data.length);
        expect(maxAbsDiff(feats, onnx.data), backend).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('accepts other image sizes and batch sizes with the same model (dynamic N, H, W)', async () => {
    const spec = encoderSpec('vgg-small');
    const session = await ort.InferenceSession.create(encoderOnnx(spec, initWeights(spec, undefined, 1)));
    const out = await session.run({ pixels: new ort.Tensor('float32', new Float32Array(3 * 48 * 48).fill(9), [3, 1, 48, 48]) });
    expect(out.features.dims).toEqual([3, 256]);
    await session.release();
  });
});
