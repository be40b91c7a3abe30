import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ViewBuilder } from './augment/plan.ts';
import { batchViews, packBatch, sliceBatch, unpackBatch } from './batch-plans.ts';
import { closeBatchPools, createBatchStream, createEpochStream, epochOrder, makeBatch } from './batches.ts';
import { openCache } from './cache/read.ts';
import { prepare } from './prepare.ts';
import { createRng, deriveSeed } from './rng.ts';
import { SAMPLERS } from './samplers/index.ts';
import { paintSample, type PretextTask } from './samplers/task.ts';
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

async function collect(stream: AsyncIterable<Batch> | Iterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of stream) out.push({ x: new Uint8Array(batchViews(b)), y: b.y && new Int32Array(b.y), shape: b.shape, ...(b.local ? { local: b.local } : {}) });
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
  plan(img, rng) {
    const p = img.size / 2;
    const local = [0, 1, 2].map(() => {
      const v = new ViewBuilder(img);
      v.geometry([1, 0, rng.int(p + 1), 0, 1, rng.int(p + 1)], p);
      return v.plan();
    });
    return { views: [new ViewBuilder(img).plan(), new ViewBuilder(img).plan()], local };
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
    // plans instead of painted views: the same draws, painted here to the same bytes, through the threads too
    const planned = await collect(createBatchStream({ ...base, workers: 2, paint: false }));
    expect(planned).toEqual(inProcess);
  });

  it('multi-crop: the local crops travel as a second block after the whole views, sample by sample', async () => {
    const cache = openCache(tmp, 'mini', 48);
    const idx = cache.indices('train').slice(0, 4);
    const b = makeBatch(cache, multiCrop, {}, idx, 9);
    expect(b.shape).toEqual([4, 2, 48, 48]);
    expect(b.local).toEqual([4, 3, 24, 24]);
    const x = b.x!;
    expect(x.length).toBe(4 * 2 * 48 * 48 + 4 * 3 * 24 * 24);
    // sample 2 as the sampler makes it: its whole views in block 1, its local ones in block 2
    const rng = createRng(9);
    let s = paintSample(multiCrop, cache.get(idx[0]), rng, {});
    for (let i = 1; i <= 2; i++) s = paintSample(multiCrop, cache.get(idx[i]), rng, {});
    const whole = 2 * 48 * 48;
    const local = 3 * 24 * 24;
    expect(x.subarray(2 * whole, 3 * whole)).toEqual(s.x.subarray(0, whole));
    expect(x.subarray(4 * whole + 2 * local, 4 * whole + 3 * local)).toEqual(s.x.subarray(whole));
  });

  it('a planned batch: one cache image per sample, its views as plan rows; packed, unpacked and sliced, it paints what a painted batch holds', () => {
    const cache = openCache(tmp, 'mini', 48);
    const idx = cache.indices('train').slice(0, 6);
    const opts = SAMPLERS.dino.options.parse({ localCrops: 2 });
    const painted = makeBatch(cache, SAMPLERS.dino, opts, idx, 4);
    const planned = makeBatch(cache, SAMPLERS.dino, opts, idx, 4, false);
    expect(planned.x).toBeUndefined();
    const p = planned.planned!;
    expect(p.images).toEqual(Uint8Array.from(idx.flatMap((i) => Array.from(cache.image(i)))));
    expect(p.views.params.length).toBe(6 * 2 * p.views.width);
    expect(p.local!.params.length).toBe(6 * 2 * p.local!.width);
    expect(batchViews(planned)).toEqual(painted.x);
    const round = unpackBatch(packBatch(planned));
    expect(round.planned!.views.program).toEqual(p.views.program);
    expect(batchViews(round)).toEqual(painted.x);
    expect(batchViews(sliceBatch(planned, 2, 5))).toEqual(batchViews(sliceBatch(painted, 2, 5)));
    expect(sliceBatch(planned, 2, 5).local).toEqual([3, 2, 24, 24]);
    const labelled = makeBatch(cache, SAMPLERS.rotation, SAMPLERS.rotation.options.parse({}), idx, 4, false);
    expect(unpackBatch(packBatch(labelled)).y).toEqual(labelled.y);
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

  it("a run's epochs as one stream: the batches of each epoch's own stream, from mid-epoch on, the next epoch queued before this one is consumed", async () => {
    const cache = openCache(tmp, 'mini', 48);
    const train = cache.indices('train');
    // a pool's draw differs per epoch: here, each epoch leaves out a different image
    const indicesOf = (e: number) => train.filter((_, i) => i !== e);
    const base = { cache: cacheInfo, task: 'simclr', batchSize: 8, seed: 9, batches: 3, paint: false };
    const perEpoch: { epoch: number; batch: Batch }[] = [];
    for (let epoch = 1; epoch < 4; epoch++) {
      const one = await collect(createBatchStream({ ...base, indices: indicesOf(epoch), epoch, startBatch: epoch === 1 ? 2 : 0 }));
      perEpoch.push(...one.map((batch) => ({ epoch, batch })));
    }
    expect(perEpoch.map((b) => b.epoch)).toEqual([1, 2, 2, 2, 3, 3, 3]);
    for (const workers of [0, 2]) {
      const asked: number[] = [];
      const stream = createEpochStream({ ...base, workers, prefetch: 4, from: { epoch: 1, batch: 2 }, epochs: 4, indicesOf: (e) => (asked.push(e), indicesOf(e)) });
      const got: { epoch: number; batch: Batch }[] = [];
      for await (const { epoch, batch } of stream) {
        // with sampling threads, epoch 2's batches are queued while epoch 1's last one is consumed
        if (got.length === 0 && workers > 0) expect(asked).toEqual([1, 2]);
        got.push({ epoch, batch: (await collect([batch]))[0] });
      }
      expect(got).toEqual(perEpoch);
    }
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
    const seen = batches.flatMap((b, k) => Array.from(b.y!, (y, j) => ({ y, x: b.x!.subarray(j * 48 * 48, (j + 1) * 48 * 48), img: e0[k * 5 + j] })));
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
