import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights, isBuffer, type Weights } from '@cxr-ssl/models';
import { setupTfjs } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { OptimizerConfig } from '../engine.ts';
import { methodHead, methodLoss } from '../method-options.ts';
import { ntXent } from './tfjs-losses.ts';
import { TfjsEngine } from './tfjs.ts';
import { TorchEngine } from './torch.ts';
import { maxAbsDiff } from './test-util.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/losses.test.ts');
const lse = (...v: number[]) => Math.log(v.reduce((s, a) => s + Math.exp(a), 0));

describe('nt-xent (tfjs) against a case written out by hand', () => {
  it('four rows, temperature 0.5, unnormalised inputs', async () => {
    await setupTfjs('cpu');
    // unit rows u0 = [1, 0], u1 = [0, 1] (view 0 of images 0, 1), u2 = [.6, .8], u3 = [.8, .6] (view 1)
    const z = tf.tensor3d([[[2, 0], [0.6, 0.8]], [[0, 3], [1.6, 1.2]]]);
    const t = 0.5;
    const dot: Record<string, number> = { '0,1': 0, '0,2': 0.6, '0,3': 0.8, '1,2': 0.8, '1,3': 0.6, '2,3': 0.96 };
    const s = (i: number, j: number) => dot[`${Math.min(i, j)},${Math.max(i, j)}`] / t;
    const pos = [2, 3, 0, 1];
    const rows = [0, 1, 2, 3].map((i) => -s(i, pos[i]) + lse(...[0, 1, 2, 3].filter((j) => j !== i).map((j) => s(i, j))));
    const { loss, target } = ntXent(z, t);
    expect((await loss.data())[0]).toBeCloseTo(rows.reduce((a, b) => a + b) / 4, 6);
    expect(Array.from(await target.data())).toEqual(pos);
  });
});

// SimCLR through both engines: the same weights and real X-ray views must give the same loss
// (<= 1e-5) and, after one SGD or LARS step, the same weights.
describe.skipIf('error' in python)('simclr: tfjs vs torch on real X-rays', { timeout: 300_000 }, () => {
  for (const optimizerName of ['sgd', 'lars'] as const) {
    it(`vgg-small-bn, nt-xent, one ${optimizerName} step`, async () => {
      const encoder = encoderSpec('vgg-small-bn');
      const opts = { temperature: 0.2 };
      const head = methodHead('simclr', encoder, opts);
      const loss = methodLoss('simclr', opts);
      const weights: Weights = initWeights(encoder, head, 3);
      const { batch } = taskBatch('simclr', await fixtureImages(8, 64), 11);
      expect(batch.y).toBeUndefined();
      const optimizer = OptimizerConfig.parse({ name: optimizerName, lr: optimizerName === 'lars' ? 0.5 : 0.01, momentum: 0.9, weightDecay: 1e-4 });
      const evals: number[] = [];
      const trains: number[] = [];
      const after: Weights[] = [];
      for (const engine of [new TorchEngine({ device: 'cpu', threads: 2 }), new TfjsEngine({ backend: 'wasm' })]) {
        try {
          await engine.init({ encoder, head, weights, optimizer, loss, seed: 1 });
          evals.push((await engine.evalStep(batch)).loss);
          trains.push((await engine.trainStep(batch, { lr: optimizer.lr })).loss);
          after.push((await engine.state()).weights);
        } finally {
          await engine.close();
        }
      }
      console.log(`simclr ${optimizerName}: eval loss torch ${evals[0].toFixed(6)} tfjs ${evals[1].toFixed(6)}; train-step loss torch ${trains[0].toFixed(6)} tfjs ${trains[1].toFixed(6)} (ln(2B - 1) = ${Math.log(15).toFixed(4)})`);
      expect(Math.abs(evals[0] - evals[1])).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(trains[0] - trains[1])).toBeLessThanOrEqual(1e-5);
      let moved = 0;
      for (const [key, t] of after[0]) {
        const other = after[1].get(key)!;
        const scale = Math.max(1, t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
        expect(maxAbsDiff(t.data, other.data), key).toBeLessThanOrEqual(1e-4 * scale);
        if (!isBuffer(key)) moved = Math.max(moved, maxAbsDiff(t.data, weights.get(key)!.data));
      }
      expect(moved).toBeGreaterThan(2e-4);
    });
  }
});
