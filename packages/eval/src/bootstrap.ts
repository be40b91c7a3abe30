import { createRng } from '@cxr-ssl/data';
import type { Labels, Scores } from './metrics.ts';

export interface BootstrapOptions {
  /** number of resamples */
  n?: number;
  seed: number;
  /** coverage of the interval (default 0.95) */
  level?: number;
}

/** Linear-interpolated quantile of an ascending sorted array. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap confidence interval of a metric `fn(labels, scores)`.
 * Resampling is stratified by class (each resample keeps the split's positive and negative
 * counts), so every resample has both classes and AUC/sensitivity/specificity stay defined.
 * Deterministic for a given seed.
 */
export function bootstrapCI(
  fn: (labels: Labels, scores: Scores) => number,
  labels: Labels,
  scores: Scores,
  opts: BootstrapOptions,
): [number, number] {
  const n = opts.n ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(n) || n < 2) throw new Error(`bootstrapCI: n must be an integer >= 2, got ${n}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapCI: level must be in (0, 1), got ${level}`);
  if (labels.length !== scores.length) {
    throw new Error(`bootstrapCI: ${labels.length} labels but ${scores.length} scores`);
  }
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(i);
  const rng = createRng(opts.seed);
  const m = labels.length;
  const l = new Int32Array(m);
  const s = new Float64Array(m);
  const stats = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (const group of [pos, neg]) {
      for (let i = 0; i < group.length; i++) {
        const idx = group[rng.int(group.length)];
        l[k] = labels[idx];
        s[k] = scores[idx];
        k++;
      }
    }
    stats[r] = fn(l, s);
  }
  stats.sort();
  const alpha = (1 - level) / 2;
  return [quantile(stats, alpha), quantile(stats, 1 - alpha)];
}
