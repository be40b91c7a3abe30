import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingStats } from './collapse.ts';
import { TfjsEngine } from './engines/tfjs.ts';
import { runPretext } from './loop.ts';
import { parseMethod } from './method-options.ts';
import { MetricsLog } from './metrics-log.ts';
import { RunHealth, runWarnings } from './run-health.ts';

const stats = (spread: number, rank: number): EmbeddingStats => ({ spread, rank, cosine: 0, dim: 128, rows: 112 });
const heldOut = (spread: number, rank: number) => ({ loss: 1, accuracy: 0.5, samples: 56, collapse: { embedding: stats(spread, rank), encoder: stats(0.3, 60) } });

describe('RunHealth', () => {
  const simclr = () => new RunHealth(parseMethod('simclr', {}), { batchSize: 32, warmup: 2, stepsPerEpoch: 1 });

  it('a loss at ln K (2B - 1 = 63 candidates) after the warm-up is reported once, naming the flags', () => {
    const h = simclr();
    for (let s = 1; s <= 10; s++) h.trainLoss(s, Math.log(63));
    const [w] = h.afterHeldOut(10, heldOut(0.5, 40));
    expect(w).toMatchObject({ kind: 'chance', cleared: false });
    expect(w.message).toMatch(/^simclr: the training loss sat at its chance value over steps 3-10 \(mean 4\.143; ln 63 = 4\.143.*--lr.*--batch-size.*temperature/);
    for (let s = 11; s <= 20; s++) h.trainLoss(s, Math.log(63));
    expect(h.afterHeldOut(20, heldOut(0.5, 40))).toEqual([]); // once, while it lasts
    // a run that then leaves chance (jigsaw on the fixture) says so, and the report keeps only what still stands
    for (let s = 21; s <= 30; s++) h.trainLoss(s, 3);
    const [gone] = h.afterHeldOut(30, heldOut(0.5, 40));
    expect(gone).toMatchObject({ kind: 'chance', cleared: true });
    expect(gone.message).toMatch(/^simclr: the training loss has left its chance value: steps 21-30 \(mean 3\.000/);
    const line = (n: typeof w, step: number) => ({ kind: 'warning' as const, step, epoch: 0, warning: n.kind, cleared: n.cleared, message: n.message });
    expect(runWarnings([line(w, 10), line(gone, 30)])).toEqual({ active: [], cleared: [w.message, gone.message] });
    expect(runWarnings([line(w, 10)])).toEqual({ active: [w.message], cleared: [] });
  });

  it('a loss below chance, or at chance only in the warm-up or for fewer than 5 steps, is not', () => {
    const h = simclr();
    for (let s = 1; s <= 2; s++) h.trainLoss(s, 5); // the warm-up
    for (let s = 3; s <= 10; s++) h.trainLoss(s, 3.9);
    expect(h.afterHeldOut(10, heldOut(0.5, 40))).toEqual([]);
    const short = simclr();
    for (let s = 1; s <= 6; s++) short.trainLoss(s, Math.log(63));
    expect(short.afterHeldOut(6, heldOut(0.5, 40))).toEqual([]); // 4 steps past the warm-up: judged later
    for (let s = 7; s <= 8; s++) short.trainLoss(s, Math.log(63));
    expect(short.afterHeldOut(8, heldOut(0.5, 40))).toHaveLength(1);
  });

  it('collapse needs both a low spread and a low effective rank: an untrained projector has the first only', () => {
    expect(simclr().afterHeldOut(10, heldOut(0.06, 57))).toEqual([]); // measured: SimCLR's untrained projection
    const [w] = simclr().afterHeldOut(10, heldOut(0.02, 6.5)); // measured: SimCLR collapsed at lr 0.05
    expect(w.message).toMatch(/^simclr: collapsed at step 10: .*spread of 0\.020.*effective rank of 6\.5 of at most 111/);
  });
});

// Real runs on fixture X-rays with the in-process engine (no Python): SimCLR at 32 px, 12 steps of 16
// images, a held-out pass every 6. At a learning rate far too high it collapses and the run says so; at
// its defaults it says nothing.
describe('SimCLR on fixture X-rays: the run warns when it collapses, and only then', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cxr-health-'));
    await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 1 });
  });
  afterAll(async () => {
    await closeBatchPools();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function warnings(name: string, optimizer: Record<string, unknown> = {}, schedule?: unknown): Promise<string[]> {
    const seen: string[] = [];
    const engine = new TfjsEngine({ backend: 'wasm' });
    const runDir = join(tmp, name);
    try {
      const cfg = { task: 'simclr', cache: { dir: join(tmp, 'cache'), name: 'fx', size: 32 }, epochs: 4, batchSize: 16, workers: 0, heldOutEvery: 6, optimizer, ...(schedule ? { schedule } : {}) };
      await runPretext(cfg, { runDir, engine, loggers: [], onEvent: (e) => e.type === 'warning' && !e.cleared && seen.push(e.message) });
    } finally {
      await engine.close();
    }
    // the terminal's warnings are the log's
    const lines = new MetricsLog(join(runDir, 'metrics.jsonl')).read();
    console.log(`${name}: losses ${lines.filter((l) => l.kind === 'step').map((l) => (l.loss as number).toFixed(3)).join(' ')}; held-out ${JSON.stringify(lines.filter((l) => l.kind === 'heldout'))}; warnings ${JSON.stringify(seen)}`);
    const logged = lines.filter((l) => l.kind === 'warning' && !l.cleared);
    expect(logged.map((l) => l.message)).toEqual(seen);
    return seen;
  }

  it('lr 1 without a warm-up: warns, naming the learning rate and warm-up flags', async () => {
    const seen = await warnings('lr1', { lr: 1 }, { name: 'cosine', warmupSteps: 0 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.join('\n')).toMatch(/simclr: (collapsed|the training loss sat at its chance value).*--lr, --warmup-epochs/);
  });

  it('at its defaults: no warning', async () => {
    expect(await warnings('defaults')).toEqual([]);
  });
});
