import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { isBuffer, readSafetensors } from '@cxr-ssl/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.ts';
import { readLatestCheckpoint } from '../checkpoint.ts';
import { runPretext } from '../loop.ts';
import { ENGINES } from './index.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/interchange.test.ts');

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-interchange-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

const config = () => ({
  task: 'rotation',
  encoder: 'vgg-small-bn',
  cache: { dir: join(tmp, 'cache'), name: 'fx', size: 32 },
  epochs: 2,
  batchSize: 16,
  stepsPerEpoch: 2,
  // a small lr keeps 4 steps of the two engines' differences within the bar: they grow with lr and with
  // the views (ties in max pooling among equal grey levels are a likely cause, not measured apart). With the
  // views of issue 28's renderer, features.0.weight differed by 5.9e-4 at lr 0.01, 2.9e-4 at 0.005, 1.6e-5 at 0.001
  optimizer: { lr: 0.001, momentum: 0.9, weightDecay: 5e-4 },
  seed: 4,
  workers: 0,
  logEvery: 1,
});

/** trains the run (to the end, or only its first epoch), then closes the engine */
async function train(runDir: string, engine: Engine, opts: { resume?: boolean; firstEpochOnly?: boolean } = {}) {
  const abort = new AbortController();
  try {
    await runPretext(config(), {
      runDir,
      engine,
      resume: opts.resume,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 2 && opts.firstEpochOnly) abort.abort();
      },
    });
  } finally {
    await engine.close();
  }
}

// A checkpoint written by one engine continues in the other: weights, BN running statistics and
// momentum buffers carry over, and the result matches a run that never switched.
describe.skipIf('error' in python)('checkpoints are interchangeable between engines', () => {
  for (const [first, second] of [
    ['tfjs', 'torch'],
    ['torch', 'tfjs'],
  ] as const) {
    it(`${first} for epoch 1, then ${second} for epoch 2 == ${second} throughout (vgg-small-bn, <= 1e-4)`, async () => {
      // one torch step pending at a time: the abort at step 2 then stops at step 2 (by default up to 6
      // steps travel, and a 4-step run is sent whole before its first step comes back)
      const make = (name: 'tfjs' | 'torch') => ENGINES[name](name === 'torch' ? { torch: { device: 'cpu', threads: 2, inFlight: 1 } } : { tfjs: { backend: 'wasm' } });
      const switched = join(tmp, `${first}-then-${second}`);
      await train(switched, await make(first), { firstEpochOnly: true });
      expect(readLatestCheckpoint(switched)!.state).toMatchObject({ engine: first, epoch: 1, batch: 0 });
      await train(switched, await make(second), { resume: true });
      const straight = join(tmp, `${second}-only-${first}`);
      await train(straight, await make(second));

      const a = readSafetensors(join(switched, 'encoder.safetensors')).weights;
      const b = readSafetensors(join(straight, 'encoder.safetensors')).weights;
      expect([...a.keys()]).toEqual([...b.keys()]);
      expect([...a.keys()].some(isBuffer)).toBe(true);
      for (const [name, t] of a) {
        const other = b.get(name)!.data;
        const scale = Math.max(1, t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
        expect(t.data.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i])), 0), name).toBeLessThanOrEqual(1e-4 * scale);
      }
    });
  }
});
