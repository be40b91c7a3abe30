import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closeBatchPools, createBatchStream, epochOrder, makeBatch } from './batches.ts';
import { openCache } from './cache/read.ts';
import { prepare } from './prepare.ts';
import { createRng, deriveSeed } from './rng.ts';
import { SAMPLERS } from './samplers/index.ts';
import type { PretextTask } from './samplers/task.ts';
import { rotate90 } from './samplers/rotation.ts';
import { fixtureDir } from './testing/index.ts';
import type { Batch } from './types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-batches-'));
const cacheInfo = { dir: tmp, name: 'mini', size: 48 };
beforeAll(async () => {
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [48], cacheDir: tmp, name: 'mini', workers: 0 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of stream) out.push({ x: new Uint8Array(b.x), y: b.y && new Int32Array(b.y), shape: b.shape, ...(b.local ? { local: b.local } : {}) });
  return out;
}

/** smaller than the defaults where those make a slow batch; every other sampler at its defaults */
const small: Record<string, object> = { jigsaw: { permutations: 10 }, dino: { localCrops: 2 } };

/**
 * A multi-crop sampler of this test's own (the packing is shared code, tested without any method's
 * sampler): the image twice as its whole views, then 3 local views, each a random half-size window.
 */
const multiCrop: PretextTask<Record<string, never>> = {
  name: 'multi-crop-test',
  options: z.object({}).strict(),
  shape: (size) => ({ views: 2, patch: size, local: { views: 3, patch: size / 2 } }),
  describe: () => '2 whole + 3 local views',
  sample(img, rng) {
    const area = img.size * img.size;
    const p = img.size / 2;
    const x = new Uint8Array(2 * area + 3 * p * p);
    x.set(img.pixels, 0);
    x.set(img.pixels, area);
    for (let v = 0; v < 3; v++) {
      const top = rng.int(p + 1);
      const left = rng.int(p + 1);
      for (let r = 0; r < p; r++) x.set(img.pixels.subarray((top + r) * img.size + left, (top + r) * img.size + left + p), 2 * area + v * p * p + r * p);
    }
    return { x };
  },
};
const taskOptions = (task: string) => small[task] ?? {};

describe('batch stream', () => {
  it.each(Object.keys(SAMPLERS) as (keyof typeof SAMPLERS)[])('%s: identical with 0, 1 and 2 workers', async (task) => {
    const cache = openCache(tmp, 'mini', 48);
    const base = { cache: cacheInfo, task, taskOptions: taskOptions(task), indices: cache.indices('train'), batchSize: 8, seed: 5, epoch: 2 };
    const inProcess = await collect(createBatchStream({ ...base, workers: 0 }));
    const one = await collect(createBatchStream({ ...base, workers: 1 }));
    const two = await collect(createBatchStream({ ...base, workers: 2, prefetch: 3 }));
    expect(inProcess.length).toBe(Math.floor(cache.indices('train').length / 8));
    const { views, patch } = SAMPLERS[task].shape(48, SAMPLERS[task].options.parse(taskOptions(task)) as never);
    expect(inProcess[0].shape).toEqual([8, views, patch, patch]);
    expect(one).toEqual(inProcess);
    expect(two).toEqual(inProcess);
    // and batch 0 is what makeBatch gives for the epoch's first 8 images
    const order = epochOrder(cache.indices('train'), 5, 2);
    const direct = makeBatch(cache, SAMPLERS[task], SAMPLERS[task].options.parse(taskOptions(task)) as never, order.slice(0, 8), deriveSeed(5, 2, 0));
    expect(direct).toEqual(inProcess[0]);
  });

  it('multi-crop: the local crops travel as a second block after the whole views, sample by sample', async () => {
    const cache = openCache(tmp, 'mini', 48);
    const idx = cache.indices('train').slice(0, 4);
    const b = makeBatch(cache, multiCrop, {}, idx, 9);
    expect(b.shape).toEqual([4, 2, 48, 48]);
    expect(b.local).toEqual([4, 3, 24, 24]);
    expect(b.x.length).toBe(4 * 2 * 48 * 48 + 4 * 3 * 24 * 24);
    // sample 2 as the sampler makes it: its whole views in block 1, its local ones in block 2
    const rng = createRng(9);
    let s = multiCrop.sample(cache.get(idx[0]), rng, {});
    for (let i = 1; i <= 2; i++) s = multiCrop.sample(cache.get(idx[i]), rng, {});
    const whole = 2 * 48 * 48;
    const local = 3 * 24 * 24;
    expect(b.x.subarray(2 * whole, 3 * whole)).toEqual(s.x.subarray(0, whole));
    expect(b.x.subarray(4 * whole + 2 * local, 4 * whole + 3 * local)).toEqual(s.x.subarray(whole));
  });

  it('resumes at batch k with the same batches, honours a batch cap', async () => {
    const cache = openCache(tmp, 'mini', 48);
    const base = { cache: cacheInfo, task: 'rotation', indices: cache.indices('train'), batchSize: 4, seed: 1, epoch: 0, workers: 2 };
    const all = await collect(createBatchStream(base));
    const tail = await collect(createBatchStream({ ...base, startBatch: 5 }));
    expect(tail).toEqual(all.slice(5));
    const capped = await collect(createBatchStream({ ...base, startBatch: 2, batches: 4 }));
    expect(capped).toEqual(all.slice(2, 4));
  });

  it('visits each image once per epoch, in a different order each epoch', async () => {
    const cache = openCache(tmp, 'mini', 48);
    const idx = cache.indices('test');
    const e0 = epochOrder(idx, 3, 0);
    const e1 = epochOrder(idx, 3, 1);
    expect([...e0].sort((a, b) => a - b)).toEqual(idx);
    expect(e1).not.toEqual(e0);
    const batches = await collect(
      createBatchStream({ cache: cacheInfo, task: 'rotation', taskOptions: { augment: [] }, indices: idx, batchSize: 5, seed: 3, epoch: 0, dropLast: false }),
    );
    expect(batches.map((b) => b.shape[0])).toEqual([5, 5, 5, 5, 5, 5, 2]);
    // rotation by label k of the image at that place in the order reproduces the sample exactly
    const seen = batches.flatMap((b, k) => Array.from(b.y!, (y, j) => ({ y, x: b.x.subarray(j * 48 * 48, (j + 1) * 48 * 48), img: e0[k * 5 + j] })));
    expect(seen.map((s) => s.img)).toEqual(e0);
    for (const s of seen) expect(s.x).toEqual(rotate90(cache.image(s.img), 48, s.y));
  });

  it('rejects bad options with the task schema', async () => {
    const it = createBatchStream({ cache: cacheInfo, task: 'context', taskOptions: { patch: 99 }, indices: [0, 1], batchSize: 2, seed: 0, epoch: 0 });
    await expect(it.next()).rejects.toThrow(/choose patch <= 16/);
    const it2 = createBatchStream({ cache: cacheInfo, task: 'mosaic', indices: [0], batchSize: 1, seed: 0, epoch: 0 });
    await expect(it2.next()).rejects.toThrow(/unknown method 'mosaic'/);
  });
});
