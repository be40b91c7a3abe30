import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { ENGINES, openRunData, runPretext } from '@cxr-ssl/train';
import { torchTests } from '@cxr-ssl/torch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureCollapse, spreadPick } from './collapse.ts';

describe('spreadPick', () => {
  it('spreads n rows over one list as before, and over several in equal shares as far as each has rows', () => {
    const a = Array.from({ length: 10 }, (_, i) => i);
    expect(spreadPick([a], 5)).toEqual([0, 2, 4, 6, 8]);
    expect(spreadPick([a], 50)).toEqual(a);
    const b = [100, 101, 102];
    const c = Array.from({ length: 40 }, (_, i) => 200 + i);
    const pick = spreadPick([a, b, c], 18);
    expect(pick.filter((i) => i >= 100 && i < 200)).toEqual(b); // all it has; the rest go to the others
    expect(pick.filter((i) => i < 100)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]); // 8 spread over 10
    expect(pick.filter((i) => i >= 200)).toEqual([200, 205, 211, 217, 222, 228, 234]); // 7 spread over 40
  });
});

// eval's collapse measure of a checkpoint (tools/probe/collapse.ts) on a pooled run: its cache.name (fx+fy) is
// no prepared set, so the test images come from each set of the pool. The fixture's real X-rays prepared
// twice; one tfjs step of SimCLR (a projector head, what the measure is for) makes the checkpoint; the measure runs in torch.
const torch = torchTests('measureCollapse on a pooled run (eval/src/collapse.test.ts)');
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-collapse-pool-'));
  const cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fy', workers: 0, seed: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(torch.skip)('measureCollapse', () => {
  it("reads a pooled run's test images from each set of its pool", async () => {
    const cache = { dir: join(tmp, 'cache'), name: 'fx+fy', size: 32, pool: [{ name: 'fx' }, { name: 'fy' }] };
    const runDir = join(tmp, 'pooled');
    const engine = await ENGINES.tfjs({ tfjs: { backend: 'wasm' } });
    try {
      await runPretext({ task: 'simclr', encoder: 'vgg-small', cache, epochs: 1, stepsPerEpoch: 1, batchSize: 8, seed: 3, workers: 0 }, { runDir, engine });
    } finally {
      await engine.close();
    }
    const [fx, fy] = openRunData(cache).sets;
    expect(Math.min(fx.test.length, fy.test.length)).toBeGreaterThanOrEqual(8);
    const report = measureCollapse(runDir, { images: 16 }); // 8 of each set
    expect(report.images).toBe(16);
    expect(report.encoder.rows).toBe(16);
    expect(report.encoder.spread).toBeGreaterThan(0);
  });
});
