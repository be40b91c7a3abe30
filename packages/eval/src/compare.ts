import type { PairedDiff, ResultRow } from './evaluate.ts';
import { accuracy, auc } from './metrics.ts';
import { meanSd, pairedBootstrap } from './paired.ts';

/**
 * The inits every row is compared with, on the same test images, with their short labels (ΔR, ...):
 * random init; random init with its BatchNorm statistics recalibrated on the train images (so a
 * method's lead over it is not calibrated statistics alone); ImageNet weights.
 */
export const REFERENCE_LABELS: Record<string, string> = { random: 'R', 'random-bn': 'RB', imagenet: 'I' };
export const REFERENCE_INITS = Object.keys(REFERENCE_LABELS);

/**
 * A variant of a method is named `<method>+<label>` (e.g. `jigsaw+std`: the same task with other
 * options); its rows are also compared with the method's own, the default task (ΔD).
 */
export function variantBase(init: string): string | undefined {
  const plus = init.indexOf('+');
  return plus > 0 ? init.slice(0, plus) : undefined;
}

const protocolOf = (r: ResultRow) => r.protocol ?? 'linear';
const fractionOf = (r: ResultRow) => r.fraction ?? 1;

/** A row's identity: (init, size, protocol, fraction, seed), plus the evaluation data set. */
export function rowKey(r: ResultRow): string {
  return [r.data ?? '', r.init, r.size, protocolOf(r), fractionOf(r), r.seed ?? 0].join('|');
}

/** Rows that score the same test images under the same conditions, apart from the init. */
function sameCell(a: ResultRow, b: ResultRow): boolean {
  return (
    (a.data ?? '') === (b.data ?? '') &&
    a.size === b.size &&
    protocolOf(a) === protocolOf(b) &&
    fractionOf(a) === fractionOf(b) &&
    a.test_labels !== undefined &&
    a.test_labels === b.test_labels
  );
}

const labelsOf = (r: ResultRow) => Array.from(r.test_labels ?? '', Number);

/**
 * Fills `paired` on every row: its difference to the random-init and ImageNet rows of the same
 * (data, size, protocol, fraction, seed), with a paired bootstrap 95% CI over the test images.
 * Rows without stored scores (older files) are left as they are.
 */
export function pairRows(rows: ResultRow[], opts: { n?: number; seed?: number } = {}): ResultRow[] {
  return rows.map((r) => {
    if (!r.scores) return r;
    const paired: Record<string, PairedDiff> = {};
    for (const ref of REFERENCE_INITS) {
      if (ref === r.init) continue;
      const q = rows.find((x) => x.init === ref && (x.seed ?? 0) === (r.seed ?? 0) && x.scores && sameCell(r, x));
      if (!q?.scores) continue;
      const labels = labelsOf(r);
      const d = (metric: typeof accuracy) => {
        const e = pairedBootstrap(metric, labels, [r.scores!], [q.scores!], { n: opts.n ?? 1000, seed: opts.seed ?? 0 });
        return { diff: e.estimate, ci: e.ci };
      };
      paired[ref] = { accuracy: d(accuracy), auc: d(auc) };
    }
    return Object.keys(paired).length > 0 ? { ...r, paired } : r;
  });
}

export interface SeedSummary {
  /** seed-averaged value */
  mean: number;
  /** standard deviation across seeds */
  sd: number;
  /** 95% bootstrap CI (test images resampled) of the seed-averaged value */
  ci: [number, number];
}

/** One (data, size, protocol, init, fraction) cell of the label-efficiency table, over its seeds. */
export interface EfficiencyCell {
  data: string;
  size: number;
  protocol: string;
  init: string;
  /** the rows' encoder architecture, where they name it */
  encoder?: string;
  fraction: number;
  seeds: number[];
  n_train: number;
  accuracy: SeedSummary;
  auc: SeedSummary;
  /** seed-averaged differences to each reference init (seeds paired), when that init was evaluated */
  vs: Record<string, { accuracy: SeedSummary; auc: SeedSummary }>;
  /** the same, against the best other method of the cell (highest seed-mean AUC, references aside) */
  best?: { init: string; accuracy: SeedSummary; auc: SeedSummary };
  /** a variant's (`<method>+<label>`) difference to its method's default task, when that was evaluated */
  base?: { init: string; accuracy: SeedSummary; auc: SeedSummary };
}

/**
 * The label-efficiency table: rows grouped over seeds. Head seeds for the full split, fraction
 * draws (and head seeds) below it. Differences pair seed s of an init with seed s of the reference.
 */
export function labelEfficiency(rows: ResultRow[], opts: { n?: number; seed?: number } = {}): EfficiencyCell[] {
  const boot = { n: opts.n ?? 1000, seed: opts.seed ?? 0 };
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    if (!r.scores || !r.test_labels) continue;
    const key = [r.data ?? '', r.size, protocolOf(r), r.init, fractionOf(r)].join('|');
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const cells: EfficiencyCell[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
    const r0 = g[0];
    const labels = labelsOf(r0);
    const summary = (metric: typeof accuracy, a: ResultRow[], b?: ResultRow[]): SeedSummary => {
      const per = a.map((r, i) => metric(labels, r.scores!) - (b ? metric(labels, b[i].scores!) : 0));
      const e = pairedBootstrap(metric, labels, a.map((r) => r.scores!), b?.map((r) => r.scores!), boot);
      return { mean: e.estimate, sd: meanSd(per).sd, ci: e.ci };
    };
    const against = (ref: string) => {
      const pairs = g.flatMap((r) => {
        const q = rows.find((x) => x.init === ref && (x.seed ?? 0) === (r.seed ?? 0) && x.scores && sameCell(r, x));
        return q ? [[r, q] as const] : [];
      });
      if (pairs.length === 0) return undefined;
      const a = pairs.map((p) => p[0]);
      const b = pairs.map((p) => p[1]);
      return { accuracy: summary(accuracy, a, b), auc: summary(auc, a, b) };
    };
    const vs: EfficiencyCell['vs'] = {};
    for (const ref of REFERENCE_INITS) {
      const d = ref === r0.init ? undefined : against(ref);
      if (d) vs[ref] = d;
    }
    const rivals = [...groups.values()].filter((o) => o !== g && !REFERENCE_INITS.includes(o[0].init) && sameCell(o[0], r0));
    const meanAuc = (o: ResultRow[]) => o.reduce((s, r) => s + auc(labels, r.scores!), 0) / o.length;
    const top = rivals.sort((x, y) => meanAuc(y) - meanAuc(x))[0];
    const best = top && !REFERENCE_INITS.includes(r0.init) ? against(top[0].init) : undefined;
    const baseInit = variantBase(r0.init);
    const base = baseInit ? against(baseInit) : undefined;
    cells.push({
      data: r0.data ?? '',
      size: r0.size,
      protocol: protocolOf(r0),
      init: r0.init,
      ...(r0.encoder ? { encoder: r0.encoder } : {}),
      fraction: fractionOf(r0),
      seeds: g.map((r) => r.seed ?? 0),
      n_train: meanSd(g.map((r) => r.n_train ?? 0)).mean,
      accuracy: summary(accuracy, g),
      auc: summary(auc, g),
      vs,
      ...(best ? { best: { init: top[0].init, ...best } } : {}),
      ...(base ? { base: { init: baseInit!, ...base } } : {}),
    });
  }
  return cells;
}
