import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, poolEpochIndices, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from './engines/tfjs.ts';
import { runPretext } from './loop.ts';
import { MetricsLog } from './metrics-log.ts';
import { parseMethod } from './method-options.ts';
import type { Engine } from './engine.ts';
import { heldOutOfRun, openRunData } from './run-data.ts';

// Pooled pretraining (issue 31) on real fixture X-rays: the fixture prepared twice under two names
// (fx: its own val carve-out; fy: another seed's), rotation at 32 px with the in-process engine.
let tmp: string;
let cacheDir: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-pool-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fy', workers: 0, valFraction: 0.2, seed: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

const pool = (weights: [number | undefined, number | undefined] = [undefined, undefined]) => ({
  dir: cacheDir,
  name: 'fx+fy',
  size: 32,
  pool: [
    { name: 'fx', ...(weights[0] === undefined ? {} : { weight: weights[0] }) },
    { name: 'fy', ...(weights[1] === undefined ? {} : { weight: weights[1] }) },
  ],
});
const config = (cache: object) => ({
  task: 'rotation',
  encoder: 'vgg-small',
  cache,
  epochs: 2,
  batchSize: 8,
  stepsPerEpoch: 3,
  optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 },
  seed: 3,
  workers: 1,
  logEvery: 1,
});

async function train(runDir: string, cfg: unknown, opts: { resume?: boolean; stopAfterStep?: number } = {}) {
  const engine = new TfjsEngine({ backend: 'wasm' });
  const abort = new AbortController();
  try {
    await runPretext(cfg, { runDir, engine, resume: opts.resume, signal: abort.signal, onEvent: (e) => e.type === 'step' && e.step === opts.stopAfterStep && abort.abort() });
  } finally {
    await engine.close();
  }
}

describe('a pool of prepared sets', () => {
  it("indexes every set's rows after the sets before it; an unweighted epoch is each train row once", () => {
    const data = openRunData(pool());
    const [fx, fy] = data.sets;
    expect(fx.train.length + fx.val.length + fy.train.length + fy.val.length).toBeLessThanOrEqual(2 * 96);
    expect(Math.min(...fy.train, ...fy.val)).toBeGreaterThanOrEqual(96); // fy's rows come after fx's 96
    expect(fy.val.length).toBeGreaterThan(fx.val.length); // its own carve-out (20 %, not 10 %)
    expect(data.epochIndices(3, 0)).toEqual([...fx.train, ...fy.train]);
    expect(data.trainImages).toBe(fx.train.length + fy.train.length);
    // a single set is read as before: its rows, no offsets
    expect(openRunData({ dir: cacheDir, name: 'fx', size: 32 }).epochIndices(3, 0)).toEqual(fx.train);
  });

  it('a weighted epoch keeps its length, gives each set its share, and is a pure function of (seed, epoch)', () => {
    const a = Array.from({ length: 40 }, (_, i) => i);
    const b = Array.from({ length: 10 }, (_, i) => 100 + i);
    const e0 = poolEpochIndices([a, b], [1, 4], 7, 0);
    expect(e0.length).toBe(50);
    expect(e0.filter((i) => i >= 100).length).toBe(40); // 4/5 of 50: b's 10 rows, each 4 times
    for (const i of b) expect(e0.filter((j) => j === i).length).toBe(4);
    expect(new Set(e0.filter((i) => i < 100)).size).toBe(10); // a's 10 rows, all different
    expect(poolEpochIndices([a, b], [1, 4], 7, 0)).toEqual(e0);
    expect(poolEpochIndices([a, b], [1, 4], 7, 1)).not.toEqual(e0); // another epoch, other rows of a
    expect(poolEpochIndices([a, b], [1, undefined], 7, 0).length).toBe(50); // a missing weight counts 1
  });

  it('trains on both sets and reports held-out pretext top-1 per set and one collapse measure; config.json and the export name both', async () => {
    const run = join(tmp, 'pooled');
    await train(run, { ...config(pool()), heldOutEvery: 3 });
    const lines = new MetricsLog(join(run, 'metrics.jsonl')).read();
    expect(lines.filter((l) => l.kind === 'epoch').every((l) => l.valBySource === undefined)).toBe(true); // on the held-out lines
    const passes = lines.filter((l) => l.kind === 'heldout');
    expect(passes.map((l) => l.step)).toEqual([3, 6]);
    for (const e of passes) {
      const by = e.valBySource as Record<string, { accuracy: number; loss: number; samples: number; chance: number }>;
      expect(Object.keys(by)).toEqual(['fx', 'fy']);
      const samples = by.fx.samples + by.fy.samples;
      // the run's figures are the sets' means weighted by their samples
      const mean = (f: (r: (typeof by)['fx']) => number) => (f(by.fx) * by.fx.samples + f(by.fy) * by.fy.samples) / samples;
      expect(e.valAccuracy as number).toBeCloseTo(mean((r) => r.accuracy), 12);
      expect(e.valLoss as number).toBeCloseTo(mean((r) => r.loss), 12);
      expect(by.fx.chance).toBe(0.25); // rotation: 1 of 4
      expect(e.valChance).toBeCloseTo(0.25, 12);
      // the collapse measure ran on the pool's sets (its cache.name, fx+fy, is no set) and did not fail the run
      expect(e.valSpread as number).toBeGreaterThan(0);
      expect(e.valRank as number).toBeGreaterThan(1);
    }
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).cache.pool).toEqual([{ name: 'fx' }, { name: 'fy' }]);
    const hub = JSON.parse(readFileSync(join(run, 'export', 'config.json'), 'utf8'));
    expect(hub.dataset.sources).toEqual([
      { name: 'fx', weight: null },
      { name: 'fy', weight: null },
    ]);
    const card = readFileSync(join(run, 'export', 'README.md'), 'utf8');
    expect(card).toContain('datasets:\n- fx\n- fy\n');
    expect(card).toContain('the prepared data sets `fx` and `fy`, pooled');
  });

  it("the collapse measure of a pool takes each set's share of its rows; one set keeps them all", async () => {
    const data = openRunData(pool());
    // a stand-in for engine.forward: 8 features a view, its mean grey level in 8 bands of rows (real X-rays, distinct per image)
    const engine = {
      evalStep: async () => ({ loss: 1, accuracy: 0 }),
      forward: async (x: Uint8Array, shape: readonly number[]) => {
        const [n, v, h, w] = shape;
        const features = new Float32Array(n * v * 8);
        for (let i = 0; i < n * v; i++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) features[i * 8 + Math.floor((r * 8) / h)] += x[(i * h + r) * w + c] / ((h / 8) * w);
        return { features: { shape: [n, v, 8], data: features }, logits: { shape: [n, 4], data: new Float32Array(n * 4) } };
      },
    } as unknown as Engine;
    // SimCLR: two views an image, so each set's views (> 64) fill its share
    const o = { task: 'simclr', samplerOptions: parseMethod('simclr', {}).heldOutSamplerOptions, seed: 4, batchSize: 8, paint: true, candidates: () => 4, collapse: { headPart: 0 } };
    const pooled = (await heldOutOfRun(engine, data, o))!;
    const [fx, fy] = [pooled.bySet!.fx.samples, pooled.bySet!.fy.samples];
    expect(fx).toBeGreaterThanOrEqual(32); // draws enough for >= 32 samples a set
    expect(2 * Math.min(fx, fy)).toBeGreaterThan(64);
    expect(pooled.collapse!.encoder.rows).toBe(128); // 64 views of each set
    expect(pooled.collapse!.encoder.spread).toBeGreaterThan(0);
    const one = (await heldOutOfRun(engine, openRunData({ dir: cacheDir, name: 'fy', size: 32 }), o))!;
    expect(one.bySet).toBeUndefined();
    expect(one.collapse!.encoder.rows).toBe(Math.min(128, 2 * one.samples));
  });

  it('a weighted pool interrupted mid-epoch and resumed ends with the weights and losses of an uninterrupted run', async () => {
    const whole = join(tmp, 'w-whole');
    const split = join(tmp, 'w-split');
    const cfg = config(pool([1, 3]));
    await train(whole, cfg);
    await train(split, cfg, { stopAfterStep: 4 });
    await train(split, cfg, { resume: true });
    expect(readFileSync(join(split, 'encoder.safetensors')).equals(readFileSync(join(whole, 'encoder.safetensors')))).toBe(true);
    const losses = (dir: string) => new MetricsLog(join(dir, 'metrics.jsonl')).read().filter((l) => l.kind === 'step').map((l) => l.loss);
    expect(losses(split)).toEqual(losses(whole));
    // and the weights matter: another share gives other batches
    const other = join(tmp, 'w-other');
    await train(other, config(pool([3, 1])));
    expect(losses(other)).not.toEqual(losses(whole));
  });
});
