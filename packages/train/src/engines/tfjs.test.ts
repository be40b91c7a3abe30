import { EncoderSpec, headSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { pretextLogits } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { OptimizerConfig } from '../engine.ts';
import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { TfjsEngine } from './tfjs.ts';
import { maxAbsDiff } from './test-util.ts';

/** vgg-small's shape at a quarter of its width: the loss-decrease tests stay fast on 2 cores. */
const tiny = EncoderSpec.parse({
  name: 'tiny-vgg',
  channels: 1,
  inputNorm: 'per-view',
  features: 16,
  ops: [
    { op: 'conv', id: 'features.0', name: 'features.0', in: 1, out: 8, k: 3, pad: 1 },
    { op: 'relu', id: 'features.1' },
    { op: 'maxpool', id: 'features.2', k: 2, stride: 2 },
    { op: 'conv', id: 'features.3', name: 'features.3', in: 8, out: 16, k: 3, pad: 1 },
    { op: 'relu', id: 'features.4' },
    { op: 'maxpool', id: 'features.5', k: 2, stride: 2 },
    { op: 'gap', id: 'gap' },
  ],
});


describe('TfjsEngine', () => {
  it('refuses at init a projector head layer it has not, naming it', async () => {
    const head = { kind: 'projector' as const, views: 2, layers: [{ layer: 'dense' as const, name: 'head.fc1', out: 8 }, { layer: 'bn' as const, name: 'head.bn1' }] };
    const engine = new TfjsEngine({ backend: 'cpu' });
    await expect(engine.init({ encoder: tiny, head, weights: initWeights(tiny, head, 1), optimizer: {}, loss: { name: 'nt-xent', temperature: 0.2 }, seed: 1 })).rejects.toThrow(
      'the tfjs engine has no "bn" head layer (it has dense, relu, emit): train with --engine torch',
    );
  });

  // Learning itself is tested at the configured settings on held-out X-rays in ../learning.test.ts.
  it('steps like torch SGD (momentum, weight decay) and matches between cpu and wasm', async () => {
    const images = await fixtureImages(4, 16);
    const { batch } = taskBatch('rotation', images, 2);
    const head = headSpec('rotation', tiny, { hidden: 8 });
    const w0 = initWeights(tiny, head, 3);
    const optimizer = OptimizerConfig.parse({ momentum: 0.9, weightDecay: 0.01 });
    const lr = 0.1;

    /** the gradient of the same loss at `w`, computed independently of the engine */
    const gradAt = (w: Weights) => {
      const names = [...w.keys()];
      const out = new Map<string, Float32Array>();
      tf.tidy(() => {
        const tensors = names.map((n) => tf.tensor(w.get(n)!.data, w.get(n)!.shape));
        const x = tf.tensor4d(Float32Array.from(batch.x), batch.shape);
        const f = (...ts: tf.Tensor[]) => {
          const logits = pretextLogits(tiny, head, new Map(names.map((n, i) => [n, ts[i]])), x);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(batch.y!, 'int32'), 4), logits);
        };
        for (const [i, g] of tf.grads(f)(tensors).entries()) out.set(names[i], g.dataSync() as Float32Array);
      });
      return out;
    };

    const results: Record<string, { w2: Weights; buf2: Weights }> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      const engine = new TfjsEngine({ backend });
      await engine.init({ encoder: tiny, head, weights: w0, optimizer, seed: 1 });
      await engine.trainStep(batch, { lr: lr });
      const s1 = await engine.state();
      await engine.trainStep(batch, { lr: lr });
      const s2 = await engine.state();
      await engine.close();
      const g0 = gradAt(w0);
      const g1 = gradAt(s1.weights);
      for (const [name, t] of w0) {
        const w1 = s1.weights.get(name)!.data;
        const buf1 = s1.optimizer.get(name)!.data;
        const expectBuf1 = g0.get(name)!.map((g, i) => g + 0.01 * t.data[i]);
        expect(maxAbsDiff(buf1, expectBuf1), `${backend} ${name} buf1`).toBeLessThan(1e-5);
        expect(maxAbsDiff(w1, t.data.map((v, i) => v - lr * buf1[i])), `${backend} ${name} w1`).toBeLessThan(1e-6);
        const buf2 = s2.optimizer.get(name)!.data;
        const expectBuf2 = g1.get(name)!.map((g, i) => 0.9 * buf1[i] + g + 0.01 * w1[i]);
        expect(maxAbsDiff(buf2, expectBuf2), `${backend} ${name} buf2`).toBeLessThan(1e-5);
      }
      results[backend] = { w2: s2.weights, buf2: s2.optimizer };
    }
    for (const [name, t] of results.cpu.w2) {
      expect(maxAbsDiff(results.wasm.w2.get(name)!.data, t.data), name).toBeLessThan(1e-5);
    }
  });

  it('resumes from momentum buffers and rejects mismatched ones', async () => {
    const head = headSpec('rotation', tiny, { hidden: 8 });
    const weights = initWeights(tiny, head, 4);
    const optimizerState: Weights = new Map([...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data.map(() => 0.5) }]));
    const engine = new TfjsEngine({ backend: 'wasm' });
    await engine.init({ encoder: tiny, head, weights, optimizer: OptimizerConfig.parse({}), optimizerState, seed: 1 });
    const s = await engine.state();
    expect([...s.weights.keys()]).toEqual([...weights.keys()]);
    expect([...s.optimizer.get('features.3.weight')!.data.slice(0, 3)]).toEqual([0.5, 0.5, 0.5]);
    optimizerState.set('head.fc2.bias', { shape: [2], data: new Float32Array(2) });
    await expect(engine.init({ encoder: tiny, head, weights, optimizer: OptimizerConfig.parse({}), optimizerState, seed: 1 })).rejects.toThrow(
      /head\.fc2\.bias/,
    );
    await engine.close();
  });
});
