import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, type DatasetCache, fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { encoderSpec, initWeights, torchEncoder, type Weights, writeSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bnInputs, recalibrateBn } from './recalibrate-bn.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

// Checked against onnxruntime's own BatchNormalization: with the recalibrated statistics, each BN
// layer's output over the same images has mean beta (0) and variance gamma^2 v/(v + eps) (~1) per
// channel, which the initial statistics (0 and 1) are far from. And against torch: BatchNorm2d in
// training mode over all the images as one batch normalises each layer with exactly these statistics
// and, with momentum None, keeps them as its running ones (the variance unbiased: x n/(n-1)).
const python = torchPythonForTests('eval/recalibrate-bn.test.ts');
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

  it.skipIf('error' in python && process.env.CI !== 'true')('equals torch BatchNorm2d statistics of one training-mode pass over the same images', async () => {
    if ('error' in python) throw new Error(python.error);
    const spec = encoderSpec('vgg-small-bn');
    const weights = initWeights(spec, undefined, 0);
    const train = cache.indices('train');
    const ours = await recalibrateBn(spec, weights, cache, train);
    const weightsPath = join(tmp, 'w.safetensors');
    writeSafetensors(weightsPath, weights);
    const pixels = new Uint8Array(train.length * 32 * 32);
    for (const [b, i] of train.entries()) pixels.set(cache.image(i), b * 32 * 32);
    writeFileSync(join(tmp, 'px.u8'), pixels);
    // the engine's encoder message: the spec with its input normalisation as numbers (what extract-torch.ts sends)
    writeFileSync(join(tmp, 'spec.json'), JSON.stringify(torchEncoder(spec)));
    const script = `
import json, sys, torch
from cxr_torch.extract import encoder_model
from cxr_torch.model import canonical_state
model = encoder_model(json.load(open(sys.argv[1])), sys.argv[2], torch.device('cpu'))
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.reset_running_stats()
        m.momentum = None
x = torch.frombuffer(bytearray(open(sys.argv[3], 'rb').read()), dtype=torch.uint8).view(-1, 1, 32, 32)
with torch.no_grad():
    model.train().encode(x)
print(json.dumps({n: t.tolist() for n, t in canonical_state(model).items() if 'running_' in n}))`;
    const r = spawnSync(python.path, ['-c', script, join(tmp, 'spec.json'), weightsPath, join(tmp, 'px.u8')], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR },
      maxBuffer: 64 << 20,
    });
    expect(r.stderr).toBe('');
    const theirs = JSON.parse(r.stdout) as Record<string, number[]>;
    // positions per channel that each layer's variance is over (images x its height x width)
    const layers = bnInputs(spec);
    const session = await ort.InferenceSession.create(encoderOnnx(spec, weights, { outputs: layers.map((b) => b.input) }));
    const one = await session.run({ pixels: new ort.Tensor('float32', new Float32Array(32 * 32), [1, 1, 32, 32]) }, layers.map((b) => b.input));
    await session.release();
    const count = (name: string) => {
      const [, , h, w] = one[layers.find((b) => `${b.name}.running_var` === name)!.input].dims;
      return train.length * h * w;
    };
    expect(Object.keys(theirs).sort()).toEqual([...ours.keys()].filter((n) => /running_/.test(n)).sort());
    let worst = 0;
    for (const [name, values] of Object.entries(theirs)) {
      const mine = ours.get(name)!.data;
      const n = name.endsWith('running_var') ? count(name) : 0;
      for (const [k, v] of values.entries()) {
        const want = n ? (mine[k] * n) / (n - 1) : mine[k];
        worst = Math.max(worst, Math.abs(v - want) / Math.max(1, Math.abs(v)));
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
