import { encoderSpec, headSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { encoderForward, paramsFromWeights, setupTfjs } from '@cxr-ssl/models/tfjs';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { findTorchPython } from './python.ts';
import { TorchEngine } from './torch.ts';

const python = findTorchPython();
if ('error' in python) console.warn(`\n!!! torch parity tests SKIPPED: ${python.error}\n`);

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// The same canonical weights and real X-rays through the three runtimes: torch (the training
// engine), onnxruntime (evaluation) and tfjs (the in-process engine) must compute one function.
describe.skipIf('error' in python)('encoder parity: torch forward vs onnxruntime vs tfjs', () => {
  for (const [name, size, n] of [
    ['vgg-small', 64, 4],
    ['vgg16', 32, 2],
  ] as const) {
    it(`${name} at ${size} px on real X-rays: max abs difference <= 1e-4`, async () => {
      const encoder = encoderSpec(name);
      const head = headSpec('rotation', encoder);
      const weights = initWeights(encoder, head, 17);
      const images = await fixtureImages(n, size);
      const x = new Uint8Array(n * size * size);
      for (const [i, img] of images.entries()) x.set(img.pixels, i * size * size);
      const pixels = Float32Array.from(x);

      const engine = new TorchEngine({ device: 'cpu', threads: 2 });
      let torchFeatures: Float32Array;
      try {
        await engine.init({ encoder, head, weights, optimizer: { lr: 0.01, momentum: 0.9, decay: 0.9, weightDecay: 0 }, seed: 1 });
        const out = await engine.forward(x, [n, 1, size, size]);
        expect(out.features.shape).toEqual([n, 1, encoder.features]);
        torchFeatures = out.features.data;
      } finally {
        await engine.close();
      }

      const encoderOnly: Weights = new Map([...weights].filter(([k]) => !k.startsWith('head.')));
      const session = await ort.InferenceSession.create(encoderOnnx(encoder, encoderOnly), { executionProviders: ['cpu'] });
      const ortFeatures = (await session.run({ pixels: new ort.Tensor('float32', pixels, [n, 1, size, size]) })).features.data as Float32Array;
      await session.release();

      await setupTfjs('wasm');
      const params = paramsFromWeights(encoderOnly);
      const tfjsFeatures = tf.tidy(() => encoderForward(encoder, params, tf.tensor4d(pixels, [n, size, size, 1])).dataSync() as Float32Array);
      for (const t of params.values()) t.dispose();

      const scale = torchFeatures.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(1e-3); // features are not trivially zero
      expect(maxAbsDiff(torchFeatures, ortFeatures)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(torchFeatures, tfjsFeatures)).toBeLessThanOrEqual(1e-4);
    });
  }
});
