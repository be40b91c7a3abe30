import type { Piscina } from 'piscina';
import { type CacheSource, openSource } from './pooled.ts';
import { batchViews, planBlock, unpackBatch } from './batch-plans.ts';
import { createPool } from './pool.ts';
import { createRng, deriveSeed, shuffleInPlace } from './rng.ts';
import { getSampler } from './samplers/index.ts';
import type { PretextTask } from './samplers/task.ts';
import type { Batch, Image } from './types.ts';

/**
 * Pretext batches. Determinism: the epoch's order is a shuffle seeded by (seed, epoch), and
 * batch k is drawn with one rng seeded by deriveSeed(seed, epoch, k), sample after sample, so
 * a batch depends only on (seed, epoch, k) - never on how many workers drew it or in which
 * order they finished. That is also what makes resuming at batch k exact.
 */

export interface ImageSource {
  get(i: number): Image;
}

/**
 * Batch k of an epoch, in process. The pool workers run this same function. `paint` (default true):
 * the views painted by the TypeScript renderer (x); false: the cache images and the views' plans
 * (planned), for an engine that paints them on its device. The rng draws are the same either way.
 */
export function makeBatch<O>(source: ImageSource, task: PretextTask<O>, opts: O, indices: readonly number[], batchSeed: number, paint = true): Batch {
  if (indices.length === 0) throw new Error('makeBatch: no images in this batch');
  const rng = createRng(batchSeed);
  const images = indices.map((idx) => source.get(idx));
  const { views, patch, local } = task.shape(images[0].size, opts);
  const plans = images.map((img) => task.plan(img, rng, opts));
  const n = indices.length;
  const y = task.classes ? Int32Array.from(plans, (p) => p.y ?? -1) : undefined;
  const shape: Batch['shape'] = [n, views, patch, patch];
  const localShape: Batch['shape'] | undefined = local && [n, local.views, local.patch, local.patch];
  const whole = planBlock(plans.map((p) => p.views), patch, `${task.name} sampler`);
  const localBlock = local ? planBlock(plans.map((p) => p.local ?? []), local.patch, `${task.name} sampler (local views)`) : undefined;
  const size = images[0].size;
  const pixels = new Uint8Array(n * size * size);
  images.forEach((img, b) => {
    pixels.set(img.pixels, b * size * size);
  });
  const planned: Batch = { planned: { images: pixels, size, views: whole, ...(localBlock ? { local: localBlock } : {}) }, y, shape, ...(localShape ? { local: localShape } : {}) };
  if (!paint) return planned;
  return { x: batchViews(planned), y, shape, ...(localShape ? { local: localShape } : {}) };
}

/** The image order of one epoch: a seeded shuffle of `indices` (tag -1 keeps it apart from batch seeds). */
export function epochOrder(indices: readonly number[], seed: number, epoch: number): number[] {
  return shuffleInPlace([...indices], createRng(deriveSeed(seed, epoch, -1))) as number[];
}

export function batchSeed(seed: number, epoch: number, k: number): number {
  return deriveSeed(seed, epoch, k);
}

export interface BatchStreamOptions {
  /** one prepared set, or several of one size pooled (pooled.ts: indices are then pooled rows) */
  cache: CacheSource;
  task: string;
  /** raw options: validated with the task's zod schema (tools, tests) */
  taskOptions?: unknown;
  /** options already parsed and resolved by the caller (a training run's MethodRun): not parsed again */
  samplerOptions?: unknown;
  /** cache rows to draw from (e.g. cache.indices('train')) */
  indices: readonly number[];
  batchSize: number;
  seed: number;
  epoch: number;
  /** sampling threads; 0 = in this thread (default 0) */
  workers?: number;
  /** batches in flight ahead of the consumer (default 2 x workers) */
  prefetch?: number;
  /** first batch to produce (resume mid-epoch) */
  startBatch?: number;
  /** stop before this batch index (e.g. a steps-per-epoch cap); default: all */
  batches?: number;
  /** drop a last, incomplete batch (default true: engines see one shape) */
  dropLast?: boolean;
  /** paint the views here (TypeScript renderer, in the sampling threads; default), or false: ship plans for the engine to paint */
  paint?: boolean;
}

/** Number of batches an epoch has. */
export function batchesPerEpoch(n: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The task request a pool worker receives. */
export interface BatchJob {
  cache: CacheSource;
  task: string;
  taskOptions: unknown;
  indices: number[];
  seed: number;
  paint: boolean;
}

const pools = new Map<number, Piscina>();

function sharedPool(workers: number): Piscina {
  let p = pools.get(workers);
  if (!p) {
    p = createPool(new URL('./batch-worker.ts', import.meta.url), workers);
    pools.set(workers, p);
  }
  return p;
}

/** Stops the sampling threads (they are shared across streams of a process and idle unref'd). */
export async function closeBatchPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.destroy()));
}

/** Async iterator of one epoch's batches, produced in order, `prefetch` ahead, in worker threads. */
export async function* createBatchStream(o: BatchStreamOptions): AsyncGenerator<Batch> {
  const from = { epoch: o.epoch, batch: o.startBatch ?? 0 };
  for await (const { batch } of createEpochStream({ ...o, indicesOf: () => o.indices, from, epochs: o.epoch + 1 })) yield batch;
}

export interface EpochStreamOptions extends Omit<BatchStreamOptions, 'indices' | 'epoch' | 'startBatch'> {
  /** cache rows to draw from in an epoch (a pool's draw depends on the epoch) */
  indicesOf: (epoch: number) => readonly number[];
  /** where to start: an epoch and a batch in it (resume mid-epoch) */
  from: { epoch: number; batch: number };
  /** stop before this epoch */
  epochs: number;
}

/**
 * A training run's batches over its epochs, each tagged with its epoch, as one queue: the sampling
 * threads run `prefetch` batches ahead across an epoch's end, so the next epoch's first batches are
 * ready when the last ones of this epoch are consumed (a short epoch, e.g. 12 steps on a GPU, would
 * otherwise drain the queue at every boundary). The batches are those of createBatchStream, epoch by epoch.
 */
export async function* createEpochStream(o: EpochStreamOptions): AsyncGenerator<{ epoch: number; batch: Batch }> {
  const task = getSampler(o.task);
  let opts = o.samplerOptions;
  if (opts === undefined) {
    const parsed = task.options.parse(o.taskOptions ?? {});
    opts = task.resolve ? task.resolve(parsed) : parsed;
  }
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.from.batch) || o.from.batch < 0) throw new Error(`startBatch must be a non-negative integer, got ${o.from.batch}`);
  const paint = o.paint ?? true;
  function* jobs(): Generator<{ epoch: number; indices: number[]; seed: number }> {
    for (let epoch = o.from.epoch; epoch < o.epochs; epoch++) {
      const order = epochOrder(o.indicesOf(epoch), o.seed, epoch);
      const end = Math.min(batchesPerEpoch(order.length, o.batchSize, o.dropLast ?? true), o.batches ?? Number.POSITIVE_INFINITY);
      for (let k = epoch === o.from.epoch ? o.from.batch : 0; k < end; k++) {
        yield { epoch, indices: order.slice(k * o.batchSize, Math.min(order.length, (k + 1) * o.batchSize)), seed: batchSeed(o.seed, epoch, k) };
      }
    }
  }
  const workers = o.workers ?? 0;

  if (workers === 0) {
    const cache = openSource(o.cache);
    try {
      for (const j of jobs()) yield { epoch: j.epoch, batch: makeBatch(cache, task, opts, j.indices, j.seed, paint) };
    } finally {
      cache.close();
    }
    return;
  }

  const pool = sharedPool(workers);
  const prefetch = Math.max(1, o.prefetch ?? 2 * workers);
  const queue = jobs();
  const pending: { epoch: number; p: Promise<Uint8Array> }[] = [];
  const submit = (): boolean => {
    const j = queue.next();
    if (j.done) return false;
    const job: BatchJob = { cache: o.cache, task: o.task, taskOptions: opts, indices: j.value.indices, seed: j.value.seed, paint };
    const p = pool.run(job) as Promise<Uint8Array>;
    p.catch(() => {}); // a consumer that stops early leaves these behind
    pending.push({ epoch: j.value.epoch, p });
    return true;
  };
  try {
    let more = true;
    for (;;) {
      while (more && pending.length < prefetch) more = submit();
      const next = pending.shift();
      if (!next) break;
      yield { epoch: next.epoch, batch: unpackBatch(await next.p) };
    }
  } finally {
    // a consumer that stops early (interrupt, error) must not leave tasks running into a pool
    // that is about to be destroyed: Piscina throws on results arriving after destroy()
    await Promise.allSettled(pending.map((x) => x.p));
  }
}
