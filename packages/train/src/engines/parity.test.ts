import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { encoderSpec, headSpec, initWeights, isBuffer, type Weights, withImagenetInput } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { encoderForward, paramsFromWeights, setupTfjs } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OptimizerConfig } from '../engine.ts';
import { TfjsEngine } from './tfjs.ts';
import { TorchEngine } from './torch.ts';
import { maxAbsDiff } from './test-util.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/parity.test.ts');


/**
 * Fresh BatchNorm state is the identity (scale 1, shift 0, running mean 0, var 1), which would let a
 * runtime that skipped BN pass. Give every BN tensor seeded values of the kind training produces.
 */
function withTrainedLookingBn(weights: Weights): Weights {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const out: Weights = new Map(weights);
  for (const [name, t] of weights) {
    const bn = name.match(/\.(running_mean|running_var)$/)?.[1] ?? (weights.has(name.replace(/\.(weight|bias)$/, '.running_var')) ? name.split('.').pop() : undefined);
    if (!bn) continue;
    const value = { running_mean: () => next() - 0.5, running_var: () => 0.5 + next(), weight: () => 0.5 + next(), bias: () => 0.4 * (next() - 0.5) }[bn]!;
    out.set(name, { shape: t.shape, data: t.data.map(() => value()) });
  }
  return out;
}

// The same canonical weights and real X-rays through the three runtimes: torch (the training
// engine), onnxruntime (evaluation) and tfjs (the in-process engine) must compute one function.
describe.skipIf('error' in python)('encoder parity: torch forward vs onnxruntime vs tfjs', () => {
  // the ImageNet input norms (three channels from the grey one) on a small net, both of them
  const smallImagenet = (norm: 'torchvision-rgb' | 'caffe-bgr') => withImagenetInput(encoderSpec('vgg-small-bn'), `vgg-small-bn ${norm}`, norm);
  for (const [encoder, size, n] of [
    [encoderSpec('vgg-small'), 64, 4],
    [encoderSpec('vgg-small-bn'), 64, 4],
    [encoderSpec('resnet18'), 64, 4],
    [encoderSpec('vgg16'), 32, 2],
    [encoderSpec('densenet121'), 32, 2], // concat and avgpool (resnet50 has resnet18's ops: hub.test checks it against ONNX)
    [smallImagenet('torchvision-rgb'), 64, 4],
    [smallImagenet('caffe-bgr'), 64, 4],
  ] as const) {
    const name = encoder.name;
    it(`${name} at ${size} px on real X-rays (inference): max abs difference <= 1e-4`, async () => {
      const head = headSpec('rotation', encoder);
      const weights = withTrainedLookingBn(initWeights(encoder, head, 17));
      const images = await fixtureImages(n, size);
      const x = new Uint8Array(n * size * size);
      for (const [i, img] of images.entries()) x.set(img.pixels, i * size * size);
      const pixels = Float32Array.from(x);

      const engine = new TorchEngine({ device: 'cpu', threads: 2 });
      let torchFeatures: Float32Array;
      try {
        await engine.init({ encoder, head, weights, optimizer: OptimizerConfig.parse({}), seed: 1 });
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
      console.log(`${name}: max |torch - onnx| ${maxAbsDiff(torchFeatures, ortFeatures).toExponential(2)}, |torch - tfjs| ${maxAbsDiff(torchFeatures, tfjsFeatures).toExponential(2)} (max |feature| ${scale.toFixed(3)})`);
      expect(maxAbsDiff(torchFeatures, ortFeatures)).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      expect(maxAbsDiff(torchFeatures, tfjsFeatures)).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
  }

  // Training mode: batch statistics in the forward, running averages updated, SGD with momentum.
  for (const name of ['vgg-small-bn', 'resnet18'] as const) {
    it(`${name}: one train step on real X-rays gives the same weights and running statistics in tfjs and torch (<= 1e-4)`, async () => {
      const encoder = encoderSpec(name);
      const head = headSpec('rotation', encoder);
      const weights = withTrainedLookingBn(initWeights(encoder, head, 5));
      const { batch } = taskBatch('rotation', await fixtureImages(8, 64), 3);
      const optimizer = OptimizerConfig.parse({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
      const after: Weights[] = [];
      const losses: number[] = [];
      for (const engine of [new TorchEngine({ device: 'cpu', threads: 2 }), new TfjsEngine({ backend: 'wasm' })]) {
        try {
          await engine.init({ encoder, head, weights, optimizer, seed: 1 });
          losses.push((await engine.trainStep(batch, { lr: optimizer.lr })).loss);
          after.push((await engine.state()).weights);
        } finally {
          await engine.close();
        }
      }
      expect(Math.abs(losses[0] - losses[1])).toBeLessThanOrEqual(1e-4);
      let moved = 0;
      let movedBuffers = 0;
      let worst = 0;
      for (const [key, t] of after[0]) {
        const other = after[1].get(key)!;
        expect(other.shape, key).toEqual(t.shape);
        const scale = Math.max(1, t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
        expect(maxAbsDiff(t.data, other.data), key).toBeLessThanOrEqual(1e-4 * scale);
        worst = Math.max(worst, maxAbsDiff(t.data, other.data) / scale);
        const change = maxAbsDiff(t.data, weights.get(key)!.data);
        if (isBuffer(key)) movedBuffers = Math.max(movedBuffers, change);
        else moved = Math.max(moved, change);
      }
      console.log(`${name} train step: tfjs vs torch max diff ${worst.toExponential(2)} (weights and running stats); largest change ${moved.toExponential(2)} (weights), ${movedBuffers.toExponential(2)} (running stats)`);
      expect(moved).toBeGreaterThan(2e-4); // the step did something to compare (lr 0.01: ~10x the tolerance)
      expect(movedBuffers).toBeGreaterThan(1e-3);
    });
  }
});
