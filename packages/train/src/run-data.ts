import { type CacheInfo, type CacheSource, openCache, poolEpochIndices, poolOffsets } from '@cxr-ssl/data';
import type { PretextConfig } from './config.ts';
import type { Engine } from './engine.ts';
import { CollapseRows, type HeldOutOptions, type HeldOutResult, heldOutPretext } from './pretext-eval.ts';

/** One prepared set a run samples from, with its rows in the run's (pooled) index. */
export interface RunSet {
  name: string;
  weight?: number;
  train: number[];
  val: number[];
  test: number[];
}

/**
 * The images a pretext run samples: its prepared set, or the pool of sets `cache.pool` names
 * (issue 31; the same size, read as one index by the batch stream: data/src/pooled.ts).
 */
export interface RunData {
  /** what the batch stream reads: one set as before, or the pool's sets in order */
  source: CacheSource;
  sets: RunSet[];
  /** train images of all sets */
  trainImages: number;
  /** the train indices of an epoch: every set's train rows, or the weighted shares (pure in seed and epoch) */
  epochIndices(seed: number, epoch: number): number[];
}

/** The sets a run's config names (a single set is a pool of one). */
export function runSets(cache: PretextConfig['cache']): { name: string; weight?: number }[] {
  return cache.pool ?? [{ name: cache.name }];
}

/** Opens the run's set(s) to index them; each must exist and be whole (openCache says what to do otherwise). */
export function openRunData(cache: PretextConfig['cache']): RunData {
  const infos: CacheInfo[] = runSets(cache).map((s) => ({ dir: cache.dir, name: s.name, size: cache.size }));
  const opened = infos.map((c) => openCache(c.dir, c.name, c.size, { wholeReadLimit: 0 }));
  const offsets = poolOffsets(opened.map((c) => c.count));
  const sets = runSets(cache).map((s, k) => ({
    ...s,
    train: opened[k].indices('train').map((i) => offsets[k] + i),
    val: opened[k].indices('val').map((i) => offsets[k] + i),
    test: opened[k].indices('test').map((i) => offsets[k] + i),
  }));
  for (const c of opened) c.close();
  const weights = cache.pool ? sets.map((s) => s.weight) : undefined;
  return {
    source: cache.pool ? infos : infos[0],
    sets,
    trainImages: sets.reduce((n, s) => n + s.train.length, 0),
    epochIndices: (seed, epoch) => poolEpochIndices(sets.map((s) => s.train), weights, seed, epoch),
  };
}

/** One set's figures in a pool's held-out pass (metrics.jsonl's `valBySource`). */
export type SetHeldOut = Pick<HeldOutResult, 'loss' | 'accuracy' | 'samples' | 'chance'>;

export interface HeldOutBySet extends HeldOutResult {
  /** a pool's sets, each on its own val images (a one-set run has none: its figures are the set's) */
  bySet?: Record<string, SetHeldOut>;
}

/**
 * The held-out pass of a run: on a single set as before (its val rows); on a pool, on each set's val rows
 * in turn, the run's loss, top-1 and chance being their means weighted by samples and its collapse measure
 * one over the views of every set (each set's share of the rows it keeps: CollapseRows.share). Undefined
 * when no set has val images.
 */
export async function heldOutOfRun(engine: Engine, data: RunData, o: Omit<HeldOutOptions, 'indices' | 'cache'>): Promise<HeldOutBySet | undefined> {
  const withVal = data.sets.filter((s) => s.val.length > 0);
  if (withVal.length === 0) return undefined;
  if (!Array.isArray(data.source)) return await heldOutPretext(engine, { ...o, cache: data.source, indices: withVal[0].val });
  const bySet: Record<string, SetHeldOut> = {};
  const rows: CollapseRows[] = [];
  for (const s of withVal) {
    const share = o.collapse ? CollapseRows.share(o.collapse.headPart, withVal.length) : undefined;
    if (share) rows.push(share);
    // with rows given, the pass has no collapse of its own: one set's figures are loss, top-1, samples, chance
    bySet[s.name] = await heldOutPretext(engine, { ...o, cache: data.source, indices: s.val, ...(share ? { collapse: { headPart: share.headPart, rows: share } } : {}) });
  }
  const all = Object.values(bySet);
  const samples = all.reduce((n, r) => n + r.samples, 0);
  const mean = (f: (r: SetHeldOut) => number) => all.reduce((a, r) => a + f(r) * r.samples, 0) / Math.max(1, samples);
  const chance = all.every((r) => r.chance !== undefined) ? mean((r) => r.chance!) : undefined;
  const collapse = rows.length > 0 ? CollapseRows.joined(rows).stats() : undefined;
  return { loss: mean((r) => r.loss), accuracy: mean((r) => r.accuracy), samples, ...(chance !== undefined ? { chance } : {}), ...(collapse ? { collapse } : {}), bySet };
}
