import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, type DatasetCache, fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { encoderSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bnInputs, recalibrateBn } from './recalibrate-bn.ts';

// Checked against onnxruntime's own BatchNormalization: with the recalibrated statistics, each BN
// layer's output over the same images has mean beta (0) and variance gamma^2 v/(v + eps) (~1) per
// channel, which the initial statistics (0 and 1) are far from.
let tmp: string;
let cache: DatasetCache;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-recal-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: tmp, name: 'fx', workers: 0 });
  cache = openCache(tmp, 'fx', 32);
});
afterAll(async () => {
  cache.close();
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

/** Per-channel mean and population variance of each BN layer's output on the images. */
async function bnOutputStats(weights: Weights, indices: number[]) {
  const spec = encoderSpec('vgg-small-bn');
  const ids = spec.ops.filter((o) => o.op === 'bn').map((o) => o.id);
  const session = await ort.InferenceSession.create(encoderOnnx(spec, weights, { outputs: ids }));
  const pixels = new Float32Array(indices.length * 32 * 32);
  for (const [b, i] of indices.entries()) pixels.set(cache.image(i), b * 32 * 32);
  const r = await session.run({ pixels: new ort.Tensor('float32', pixels, [indices.length, 1, 32, 32]) }, ids);
  await session.release();
  return ids.map((id) => {
    const [n, c, h, w] = r[id].dims;
    const x = r[id].data as Float32Array;
    return Array.from({ length: c }, (_, k) => {
      let s = 0;
      let q = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < h * w; j++) s += x[(i * c + k) * h * w + j];
      const mean = s / (n * h * w);
      for (let i = 0; i < n; i++) for (let j = 0; j < h * w; j++) q += (x[(i * c + k) * h * w + j] - mean) ** 2;
      return { mean, variance: q / (n * h * w) };
    });
  });
}

describe('recalibrateBn', () => {
  it("sets each BN layer's statistics to what it sees, so its outputs are standardised; nothing else changes", async () => {
    const spec = encoderSpec('vgg-small-bn');
    const weights = initWeights(spec, undefined, 0);
    const train = cache.indices('train');
    const recalibrated = await recalibrateBn(spec, weights, cache, train, { batchSize: 16 }); // batches split the sums
    expect(bnInputs(spec).length).toBeGreaterThanOrEqual(4);

    const before = await bnOutputStats(weights, train);
    const after = await bnOutputStats(recalibrated, train);
    const worst = (stats: typeof after, vars: Float32Array[]) =>
      stats.reduce((m, layer, l) => Math.max(m, ...layer.map((s, k) => Math.max(Math.abs(s.mean), Math.abs(s.variance - vars[l][k] / (vars[l][k] + 1e-5))))), 0);
    const vars = bnInputs(spec).map((b) => recalibrated.get(`${b.name}.running_var`)!.data);
    expect(worst(after, vars)).toBeLessThan(2e-3);
    expect(worst(before, vars)).toBeGreaterThan(0.1); // the initial statistics do not standardise

    for (const [name, t] of weights) {
      if (/running_(mean|var)$/.test(name)) continue;
      expect(recalibrated.get(name)!.data, name).toEqual(t.data);
    }
    expect([...recalibrated.keys()]).toEqual([...weights.keys()]); // canonical order kept
  });

  it('refuses an empty image list', async () => {
    const spec = encoderSpec('vgg-small-bn');
    await expect(recalibrateBn(spec, initWeights(spec, undefined, 0), cache, [])).rejects.toThrow(/no images/);
  });
});
