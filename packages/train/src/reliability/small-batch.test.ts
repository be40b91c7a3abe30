import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '../engines/tfjs.ts';
import { type PretextEvent, runPretext } from '../loop.ts';

/**
 * A batch too small for a method (no negatives; BatchNorm over one image's views) is a warning before
 * training, from the method's own `caution`, instead of a run that trains silently to loss 0 and
 * accuracy 1.0. Real fixture X-rays at 32 px.
 */
let tmp: string;
let cacheDir: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-small-batch-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

const config = (task: string, batchSize: number) => ({ task, encoder: 'vgg-small-bn', cache: { dir: cacheDir, name: 'fx', size: 32 }, epochs: 1, batchSize, stepsPerEpoch: 2, seed: 0, workers: 0, logEvery: 1 });

/** The run's warnings and step events (`engine` undefined: the warnings only; they come before the engine is touched). */
async function run(task: string, batchSize: number, engine?: TfjsEngine) {
  const events: PretextEvent[] = [];
  const runDir = join(tmp, `${task}-${batchSize}-${engine ? 'trained' : 'warned'}`);
  await runPretext(config(task, batchSize), { runDir, engine: engine ?? ({ name: 'torch' } as never), onEvent: (e) => events.push(e) }).catch((e) => {
    if (engine) throw e;
  });
  return { warnings: events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])), steps: events.flatMap((e) => (e.type === 'step' ? [e] : [])) };
}

describe('a batch too small for the method', () => {
  it('simclr at --batch-size 1 really trains to loss 0 and accuracy 1.0 (no negatives), and says so first', async () => {
    const engine = new TfjsEngine({ backend: 'wasm' });
    try {
      const { warnings, steps } = await run('simclr', 1, engine);
      expect(warnings).toEqual([expect.stringMatching(/^simclr at a batch of 1: its negatives are the other images of the batch, and there are none, so the loss is 0 and the accuracy 1\.0 .*--batch-size 2 or more/)]);
      expect(steps.length).toBe(2);
      for (const s of steps) {
        expect(s.loss).toBeCloseTo(0, 5);
        expect(s.accuracy).toBe(1);
      }
    } finally {
      await engine.close();
    }
  });

  for (const [task, why] of [
    ['byol', /^byol at a batch of 1: the BatchNorm of its projector and predictor normalises each feature over the batch's views, here the 2 views of one image.*--batch-size 2 or more/],
    ['dino', /^dino at a batch of 1: the BatchNorm of its head normalises each feature over the crops of one image.*--batch-size 2 or more/],
  ] as const) {
    it(`${task} at --batch-size 1 warns before training, naming the cause and the fix`, async () => {
      expect((await run(task, 1)).warnings).toEqual([expect.stringMatching(why)]);
    });
  }

  it('a batch of 2 gives none of these warnings', async () => {
    for (const task of ['simclr', 'byol', 'dino']) expect((await run(task, 2)).warnings, task).toEqual([]);
  });
});
