import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Batch, fixtureDir, getSampler, makeBatch, openCache, prepare } from '@cxr-ssl/data';
import { encoderSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodHead, methodLoss } from '../method-options.ts';
import { TfjsEngine } from './tfjs.ts';

/**
 * A batch trained in micro-batches (what a step too large for the wasm heap does) makes the same
 * update as the whole batch at once: real fixture X-rays, one step from the same init, compared
 * weight by weight. Without BatchNorm the gradients are the same sum; with it, each pass
 * normalises by its own statistics, and the running averages still get the whole batch's.
 */
let tmp: string;
let cacheDir: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-micro-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function oneStep(encoderName: string, method: string, microBatch: number | undefined, batch: Batch): Promise<{ weights: Weights; loss: number }> {
  const encoder = encoderSpec(encoderName);
  const opts = getSampler(method).options.parse({}) as Record<string, unknown>;
  const head = methodHead(method, encoder, opts);
  const engine = new TfjsEngine({ backend: 'wasm', microBatch });
  try {
    await engine.init({ encoder, head, weights: initWeights(encoder, head, 5), optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }, loss: methodLoss(method, opts), seed: 5 });
    const { loss } = await engine.trainStep(batch, { lr: 0.05 });
    return { weights: (await engine.state()).weights, loss };
  } finally {
    await engine.close();
  }
}

function fixtureBatch(method: string): Batch {
  const cache = openCache(cacheDir, 'fx', 32);
  try {
    const task = getSampler(method);
    return makeBatch(cache, task, task.options.parse({}), cache.indices('train').slice(0, 8), 11);
  } finally {
    cache.close();
  }
}

/** the largest |a - b| relative to the largest |a| of each tensor, over the tensors whose name matches */
function largestRelativeDifference(a: Weights, b: Weights, names: (n: string) => boolean): number {
  let worst = 0;
  for (const [name, t] of a) {
    if (!names(name)) continue;
    const u = b.get(name)!.data;
    const scale = t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - u[i]) / scale);
  }
  return worst;
}

describe('micro-batches with gradient accumulation (tfjs)', () => {
  for (const method of ['rotation', 'simclr']) {
    it(`${method}, vgg-small (no BatchNorm): 4 passes of 2 make the update of the batch of 8`, async () => {
      const batch = fixtureBatch(method);
      const whole = await oneStep('vgg-small', method, undefined, batch);
      const micro = await oneStep('vgg-small', method, 2, batch);
      expect(Math.abs(micro.loss - whole.loss)).toBeLessThan(1e-5 * Math.abs(whole.loss));
      const init = initWeights(encoderSpec('vgg-small'), methodHead(method, encoderSpec('vgg-small'), getSampler(method).options.parse({}) as Record<string, unknown>), 5);
      expect(largestRelativeDifference(whole.weights, init, () => true)).toBeGreaterThan(1e-4); // the step moved the weights
      expect(largestRelativeDifference(whole.weights, micro.weights, () => true)).toBeLessThan(1e-4);
    }, 120_000);
  }

  it('vgg-small-bn: the first BatchNorm (the same input either way) gets the whole batch\'s running statistics', async () => {
    const batch = fixtureBatch('rotation');
    const whole = await oneStep('vgg-small-bn', 'rotation', undefined, batch);
    const micro = await oneStep('vgg-small-bn', 'rotation', 2, batch);
    expect(largestRelativeDifference(whole.weights, micro.weights, (n) => /^features\.1\.running_(mean|var)$/.test(n))).toBeLessThan(1e-5);
    // deeper layers see inputs normalised per pass: close, not equal (ghost BatchNorm, docs/RELIABILITY.md)
    expect(largestRelativeDifference(whole.weights, micro.weights, (n) => /running_var$/.test(n))).toBeLessThan(0.2);
  }, 120_000);
});
