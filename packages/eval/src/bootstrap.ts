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
  // Resamples are emitted in ascending score order (draw multiplicities, then walk the rows
  // pre-sorted by score): metrics are order-free, and a rank metric's sort of already-sorted
  // input is linear, which makes an AUC interval on 25k rows ~10x cheaper.
  const byScore = Array.from({ length: m }, (_, i) => i).sort((a, b) => scores[a] - scores[b] || a - b);
  const times = new Int32Array(m);
  const l = new Int32Array(m);
  const s = new Float64Array(m);
  const stats = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    times.fill(0);
    for (const group of [pos, neg]) {
      for (let i = 0; i < group.length; i++) times[group[rng.int(group.length)]]++;
    }
    let k = 0;
    for (const idx of byScore) {
      for (let t = 0; t < times[idx]; t++) {
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
