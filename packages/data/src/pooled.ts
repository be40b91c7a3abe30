import { type CacheInfo, type DatasetCache, openCache } from './cache/read.ts';
import { createRng, deriveSeed, shuffleInPlace } from './rng.ts';
import type { Image } from './types.ts';

/**
 * Several prepared sets of one size read as one (pooled pretraining, issue 31): row i of set k is
 * the pooled index offset(k) + i, offset(k) being the rows of the sets before it. A single set is
 * its own pool (offset 0), so a one-set run reads exactly as before.
 */
export type CacheSource = CacheInfo | readonly CacheInfo[];

export interface PooledImages {
  get(i: number): Image;
  close(): void;
}

/** Opens a set or a pool of sets; `open` opens one set (a batch worker passes its memo). */
export function openSource(source: CacheSource, open: (c: CacheInfo) => DatasetCache = (c) => openCache(c.dir, c.name, c.size)): PooledImages {
  if (!Array.isArray(source)) return open(source as CacheInfo);
  const caches = (source as readonly CacheInfo[]).map(open);
  const offsets = poolOffsets(caches.map((c) => c.count));
  return {
    get(i: number) {
      let k = caches.length - 1;
      while (k > 0 && offsets[k] > i) k--;
      return caches[k].get(i - offsets[k]);
    },
    close: () => {
      for (const c of caches) c.close();
    },
  };
}

/** Where each set's rows start in the pooled index. */
export function poolOffsets(counts: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const n of counts) {
    out.push(at);
    at += n;
  }
  return out;
}

/**
 * The train indices of one epoch of a pool. Without weights: every set's rows once (their
 * concatenation; the batch stream shuffles it). With weights w_k: the epoch keeps its length N (all
 * train rows) and set k fills round(N w_k / Σw) of it (largest remainder, so the shares sum to N),
 * its rows taken in a seeded order of (seed, epoch, k), again from the start when the set is
 * smaller than its share. A pure function of (seed, epoch): resume stays exact.
 */
export function poolEpochIndices(perSet: readonly (readonly number[])[], weights: readonly (number | undefined)[] | undefined, seed: number, epoch: number): number[] {
  if (!weights || weights.every((w) => w === undefined)) return perSet.flat();
  const w = perSet.map((_, k) => weights[k] ?? 1);
  const total = perSet.reduce((s, rows) => s + rows.length, 0);
  const sum = w.reduce((a, b) => a + b, 0);
  const exact = w.map((x) => (total * x) / sum);
  const share = exact.map(Math.floor);
  const byRemainder = exact.map((x, k) => [x - Math.floor(x), k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = 0; r < total - share.reduce((a, b) => a + b, 0); r++) share[byRemainder[r][1]]++;
  return perSet.flatMap((rows, k) => {
    if (rows.length === 0) return [];
    const out: number[] = [];
    for (let round = 0; out.length < share[k]; round++) {
      // four parts: apart from the epoch shuffle (seed, epoch, -1) and the batch seeds (seed, epoch, k)
      const order = shuffleInPlace([...rows], createRng(deriveSeed(seed, epoch, -2 - k, round))) as number[];
      out.push(...order.slice(0, share[k] - out.length));
    }
    return out;
  });
}
