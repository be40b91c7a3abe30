import { createRng } from '@cxr-ssl/data';
import type { Labels, Scores } from './metrics.ts';

export interface PairedOptions {
  /** number of resamples (default 1000) */
  n?: number;
  seed: number;
  /** coverage of the interval (default 0.95) */
  level?: number;
  /**
   * values per test image (default 1): labels and score vectors hold `width` of them per image,
   * row-major (one per class or finding), and each resample draws whole images
   */
  width?: number;
  /**
   * the resampling stratum of each test image (kept at its size in every resample); default: its
   * label when `width` is 1, else one stratum
   */
  strata?: ArrayLike<number>;
}

export interface PairedEstimate {
  /** the statistic on the test split as it is */
  estimate: number;
  /** percentile bootstrap interval */
  ci: [number, number];
}

type Metric = (labels: Labels, scores: Scores) => number;

function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Paired bootstrap of mean_s metric(a[s]) - mean_s metric(b[s]): every score vector scores the
 * same test images, and each resample draws those images once for all of them (stratified by
 * class, as bootstrapCI does), so what both encoders get right or wrong together cancels. `a` and
 * `b` hold one score vector per seed (seed s of a is paired with seed s of b); with `b` omitted it
 * is the interval of the seed-averaged metric of `a`. With one seed each it is the classic paired
 * bootstrap of a difference.
 */
export function pairedBootstrap(metric: Metric, labels: Labels, a: Scores[], b: Scores[] | undefined, opts: PairedOptions): PairedEstimate {
  const n = opts.n ?? 1000;
  const level = opts.level ?? 0.95;
  const w = opts.width ?? 1;
  if (!Number.isInteger(n) || n < 2) throw new Error(`pairedBootstrap: n must be an integer >= 2, got ${n}`);
  if (!(level > 0 && level < 1)) throw new Error(`pairedBootstrap: level must be in (0, 1), got ${level}`);
  if (a.length === 0 || (b && b.length !== a.length)) {
    throw new Error(`pairedBootstrap: need one score vector per seed on both sides (got ${a.length} and ${b?.length})`);
  }
  const len = labels.length;
  if (!Number.isInteger(w) || w < 1 || len % w !== 0) throw new Error(`pairedBootstrap: ${len} labels are not whole images of width ${w}`);
  const m = len / w;
  for (const s of [...a, ...(b ?? [])]) {
    if (s.length !== len) throw new Error(`pairedBootstrap: ${len} labels but a score vector of ${s.length}: rows must score the same test images`);
  }
  const stat = (gather: (s: Scores) => Scores, l: Labels) => {
    const ma = mean(a.map((s) => metric(l, gather(s))));
    return b ? ma - mean(b.map((s) => metric(l, gather(s)))) : ma;
  };
  const estimate = stat((s) => s, labels);

  const groups = new Map<number, number[]>();
  for (let i = 0; i < m; i++) {
    const key = opts.strata ? opts.strata[i] : w === 1 ? (labels[i] === 1 ? 1 : 0) : 0;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  // label order first, so that the one-value-per-image draws stay what they were before strata existed
  const strata = [...groups.entries()].sort((x, y) => y[0] - x[0]).map(([, g]) => g);
  const rng = createRng(opts.seed);
  const idx = new Int32Array(m);
  const l = new Int32Array(len);
  const g = new Float64Array(len);
  const stats = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (const group of strata) {
      for (let i = 0; i < group.length; i++) idx[k++] = group[rng.int(group.length)];
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < w; j++) l[i * w + j] = labels[idx[i] * w + j];
    stats[r] = stat((s) => {
      for (let i = 0; i < m; i++) for (let j = 0; j < w; j++) g[i * w + j] = s[idx[i] * w + j];
      return g;
    }, l);
  }
  stats.sort();
  const alpha = (1 - level) / 2;
  return { estimate, ci: [quantile(stats, alpha), quantile(stats, 1 - alpha)] };
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanSd(xs: number[]): { mean: number; sd: number } {
  const m = mean(xs);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean: m, sd };
}
