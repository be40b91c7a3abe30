import { type DatasetCache, createRng, deriveSeed, evalTaskOptions, getSampler, paintSample } from '@cxr-ssl/data';

/**
 * The shortcut probe: how much of a pretext task a trivial classifier solves from summary numbers.
 * It sees 10 numbers per view (mean and sd, the means of the 4 edge strips and 4 corner blocks:
 * where exposure, dark margins, collimator edges and burnt-in markers show; no texture or shape)
 * and classifies by nearest class centroid (features z-scored on the train samples). Samples are drawn as held-out pretext
 * accuracy draws them (evalTaskOptions: random augmentations off, deterministic transforms kept),
 * `draws` per image, seeded by (row, draw, split). Used by tools/probe/shortcut.ts.
 */

/** The 10 numbers of each view, concatenated. */
function viewFeatures(x: Uint8Array, views: number, p: number): number[] {
  const strip = Math.max(1, Math.round(p / 16));
  const block = Math.max(1, Math.round(p / 8));
  const out: number[] = [];
  for (let v = 0; v < views; v++) {
    const o = v * p * p;
    const mean = (r0: number, r1: number, c0: number, c1: number) => {
      let s = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += x[o + r * p + c];
      return s / ((r1 - r0) * (c1 - c0));
    };
    const m = mean(0, p, 0, p);
    let ss = 0;
    for (let i = 0; i < p * p; i++) ss += (x[o + i] - m) ** 2;
    out.push(m, Math.sqrt(ss / (p * p)));
    out.push(mean(0, strip, 0, p), mean(p - strip, p, 0, p), mean(0, p, 0, strip), mean(0, p, p - strip, p));
    out.push(mean(0, block, 0, block), mean(0, block, p - block, p), mean(p - block, p, 0, block), mean(p - block, p, p - block, p));
  }
  return out;
}

export interface ProbeResult {
  accuracy: number;
  chance: number;
  samples: number;
}

/** Probe accuracy on `test` rows after fitting class centroids on `train` rows (features z-scored on train). */
export function shortcutProbe(cache: DatasetCache, task: string, options: Record<string, unknown>, train: number[], test: number[], draws = 8): ProbeResult {
  const sampler = getSampler(task);
  const opts = sampler.options.parse(evalTaskOptions(options)) as never;
  const shape = sampler.shape(cache.size, opts);
  const classes = sampler.classes!(opts);
  const sample = (rows: number[], split: number) =>
    rows.flatMap((i) =>
      Array.from({ length: draws }, (_, d) => {
        const s = paintSample(sampler, cache.get(i), createRng(deriveSeed(i, d, split)), opts);
        return { f: viewFeatures(s.x, shape.views, shape.patch), y: s.y! };
      }),
    );
  const tr = sample(train, 0);
  const te = sample(test, 1);
  const dim = tr[0].f.length;
  const mu = Array.from({ length: dim }, (_, j) => tr.reduce((s, t) => s + t.f[j], 0) / tr.length);
  const sd = Array.from({ length: dim }, (_, j) => Math.sqrt(tr.reduce((s, t) => s + (t.f[j] - mu[j]) ** 2, 0) / tr.length) || 1);
  const z = (f: number[]) => f.map((v, j) => (v - mu[j]) / sd[j]);
  const sums = Array.from({ length: classes }, () => ({ n: 0, f: new Float64Array(dim) }));
  for (const t of tr) {
    const c = sums[t.y];
    c.n++;
    z(t.f).forEach((v, j) => {
      c.f[j] += v;
    });
  }
  const centroids = sums.flatMap((c, y) => (c.n > 0 ? [{ y, f: c.f.map((v) => v / c.n) }] : []));
  let right = 0;
  for (const t of te) {
    const f = z(t.f);
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    for (const c of centroids) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (c.f[j] - f[j]) ** 2;
      if (d < bestD) [bestD, best] = [d, c.y];
    }
    if (best === t.y) right++;
  }
  return { accuracy: right / te.length, chance: 1 / classes, samples: te.length };
}

