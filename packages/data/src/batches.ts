import type { Piscina } from 'piscina';
import { type CacheInfo, openCache } from './cache/read.ts';
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

/** Batch k of an epoch, in process. The pool workers run this same function. */
export function makeBatch<O>(source: ImageSource, task: PretextTask<O>, opts: O, indices: readonly number[], batchSeed: number): Batch {
  if (indices.length === 0) throw new Error('makeBatch: no images in this batch');
  const rng = createRng(batchSeed);
  const first = source.get(indices[0]);
  const { views, patch, local } = task.shape(first.size, opts);
  const per = views * patch * patch;
  const perLocal = local ? local.views * local.patch * local.patch : 0;
  const n = indices.length;
  const x = new Uint8Array(n * (per + perLocal));
  const y = task.classes ? new Int32Array(n) : undefined;
  indices.forEach((idx, b) => {
    const s = task.sample(b === 0 ? first : source.get(idx), rng, opts);
    x.set(s.x.subarray(0, per), b * per);
    if (perLocal) x.set(s.x.subarray(per, per + perLocal), n * per + b * perLocal); // the local block follows the whole one
    if (y) y[b] = s.y ?? -1;
  });
  return { x, y, shape: [n, views, patch, patch], ...(local ? { local: [n, local.views, local.patch, local.patch] as Batch['shape'] } : {}) };
}

/** The image order of one epoch: a seeded shuffle of `indices` (tag -1 keeps it apart from batch seeds). */
export function epochOrder(indices: readonly number[], seed: number, epoch: number): number[] {
  return shuffleInPlace([...indices], createRng(deriveSeed(seed, epoch, -1))) as number[];
}

export function batchSeed(seed: number, epoch: number, k: number): number {
  return deriveSeed(seed, epoch, k);
}

export interface BatchStreamOptions {
  cache: CacheInfo;
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
}

/** Number of batches an epoch has. */
export function batchesPerEpoch(n: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The task request a pool worker receives. */
export interface BatchJob {
  cache: CacheInfo;
  task: string;
  taskOptions: unknown;
  indices: number[];
  seed: number;
}

/** Packs x and y (if any) in one buffer, so the worker can hand it over with one move(). */
export function packBatch(b: Batch): Uint8Array {
  const xLen = b.x.length;
  const yAt = Math.ceil(xLen / 4) * 4;
  const out = new Uint8Array(b.y ? yAt + 4 * b.y.length : xLen);
  out.set(b.x, 0);
  if (b.y) new Int32Array(out.buffer, yAt, b.y.length).set(b.y);
  return out;
}

export function unpackBatch(buf: Uint8Array, shape: Batch['shape'], labels = true, local?: Batch['shape']): Batch {
  const [n, v, p] = shape;
  const xLen = n * v * p * p + (local ? local[0] * local[1] * local[2] * local[3] : 0);
  const yAt = Math.ceil(xLen / 4) * 4;
  if (buf.byteOffset % 4 !== 0 || buf.length !== (labels ? yAt + 4 * n : xLen)) throw new Error(`unpackBatch: buffer of ${buf.length} bytes does not hold a ${shape.join('x')} batch`);
  return { x: buf.subarray(0, xLen), y: labels ? new Int32Array(buf.buffer, buf.byteOffset + yAt, n) : undefined, shape, ...(local ? { local } : {}) };
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

/** Async iterator of the epoch's batches, produced in order, `prefetch` ahead, in worker threads. */
export async function* createBatchStream(o: BatchStreamOptions): AsyncGenerator<Batch> {
  const task = getSampler(o.task);
  let opts = o.samplerOptions;
  if (opts === undefined) {
    const parsed = task.options.parse(o.taskOptions ?? {});
    opts = task.resolve ? task.resolve(parsed) : parsed;
  }
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  const order = epochOrder(o.indices, o.seed, o.epoch);
  const total = batchesPerEpoch(order.length, o.batchSize, o.dropLast ?? true);
  const end = Math.min(total, o.batches ?? total);
  const start = o.startBatch ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new Error(`startBatch must be a non-negative integer, got ${start}`);
  const slice = (k: number) => order.slice(k * o.batchSize, Math.min(order.length, (k + 1) * o.batchSize));
  const workers = o.workers ?? 0;
  const shape = task.shape(o.cache.size, opts);

  if (workers === 0) {
    const cache = openCache(o.cache.dir, o.cache.name, o.cache.size);
    try {
      for (let k = start; k < end; k++) yield makeBatch(cache, task, opts, slice(k), batchSeed(o.seed, o.epoch, k));
    } finally {
      cache.close();
    }
    return;
  }

  const pool = sharedPool(workers);
  const prefetch = Math.max(1, o.prefetch ?? 2 * workers);
  const pending: { k: number; p: Promise<Uint8Array> }[] = [];
  let next = start;
  const submit = () => {
    const k = next++;
    const job: BatchJob = { cache: o.cache, task: o.task, taskOptions: opts, indices: slice(k), seed: batchSeed(o.seed, o.epoch, k) };
    const p = pool.run(job) as Promise<Uint8Array>;
    p.catch(() => {}); // a consumer that stops early leaves these behind
    pending.push({ k, p });
  };
  try {
    while (next < end || pending.length) {
      while (next < end && pending.length < prefetch) submit();
      const { k, p } = pending.shift()!;
      const n = slice(k).length;
      const local: Batch['shape'] | undefined = shape.local && [n, shape.local.views, shape.local.patch, shape.local.patch];
      yield unpackBatch(await p, [n, shape.views, shape.patch, shape.patch], !!task.classes, local);
    }
  } finally {
    // a consumer that stops early (interrupt, error) must not leave tasks running into a pool
    // that is about to be destroyed: Piscina throws on results arriving after destroy()
    await Promise.allSettled(pending.map((x) => x.p));
  }
}
