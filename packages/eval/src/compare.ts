import type { PairedDiff, PretextInfo, ResultRow } from './evaluate.ts';
import { type Labels, type Scores, auc } from './metrics.ts';
import { column } from './output-metrics.ts';
import { meanSd, pairedBootstrap } from './paired.ts';
import { type RowMetrics, rowMetrics } from './score-outputs.ts';

type Metric = (labels: Labels, scores: Scores) => number;

/**
 * The encoders every row is compared with, on the same test images, by method, with their short
 * labels (ΔR, ...): random init; random init with its BatchNorm statistics recalibrated on the train
 * images (so a method's lead over it is not calibrated statistics alone); ImageNet weights.
 */
export const REFERENCE_LABELS: Record<string, string> = { random: 'R', 'random-bn': 'RB', imagenet: 'I' };
export const REFERENCE_METHODS = Object.keys(REFERENCE_LABELS);
export const isReference = (r: { method: string }) => REFERENCE_METHODS.includes(r.method);

/** A row's identity: its encoder (label) and cell (data, size, protocol, fraction, seed). */
export function rowKey(r: ResultRow): string {
  return [r.data ?? '', r.label, r.size, r.protocol, r.fraction, r.seed].join('|');
}

/** What a row predicted: its target (abnormal for rows before targets) and outputs. */
const targetOf = (r: ResultRow) => `${r.target ?? 'abnormal'}:${(r.outputs?.map((o) => o.name) ?? ['abnormal']).join('|')}`;
/** Outputs per test image. */
const widthOf = (r: ResultRow) => r.outputs?.length ?? 1;

/** Rows that score the same test images under the same conditions, apart from the encoder. */
function sameCell(a: ResultRow, b: ResultRow): boolean {
  return (
    (a.data ?? '') === (b.data ?? '') &&
    a.size === b.size &&
    a.protocol === b.protocol &&
    a.fraction === b.fraction &&
    targetOf(a) === targetOf(b) &&
    a.test_labels !== undefined &&
    a.test_labels === b.test_labels
  );
}

const labelsOf = (r: ResultRow) => Array.from(r.test_labels ?? '', Number);
const metricsOf = (r: ResultRow, labels: Labels): RowMetrics => rowMetrics(r.target, widthOf(r), labels);



/** The row of the same cell and seed as `r` that `which` picks (a reference's method, another encoder's label). */
const partner = (rows: ResultRow[], r: ResultRow, which: (x: ResultRow) => boolean) => rows.find((x) => x !== r && which(x) && x.seed === r.seed && x.scores && sameCell(r, x));

/**
 * Fills `paired` on every row: its difference to the reference rows (random init, ImageNet, ...) of the
 * same (data, size, protocol, fraction, seed), with a paired bootstrap 95% CI over the test images.
 * Rows without stored scores (older files) are left as they are.
 */
export function pairRows(rows: ResultRow[], opts: { n?: number; seed?: number } = {}): ResultRow[] {
  const boot = { n: opts.n ?? 1000, seed: opts.seed ?? 0 };
  return rows.map((r) => {
    if (!r.scores) return r;
    const paired: Record<string, PairedDiff> = {};
    const labels = labelsOf(r);
    const m = metricsOf(r, labels);
    const outputs = r.outputs?.map((o) => ({ ...o }));
    for (const ref of REFERENCE_METHODS) {
      if (ref === r.method) continue;
      const q = partner(rows, r, (x) => x.method === ref);
      if (!q?.scores) continue;
      const d = (metric: Metric) => {
        const e = pairedBootstrap(metric, labels, [r.scores!], [q.scores!], { ...boot, width: m.width, strata: m.strata });
        return { diff: e.estimate, ci: e.ci };
      };
      paired[ref] = { accuracy: d(m.accuracy), auc: d(m.auc) };
      // each output's ΔAUC on its own: one output's images resampled by its label, as a binary row's
      outputs?.forEach((o, k) => {
        if (o.auc === undefined || m.width === 1) return;
        const e = pairedBootstrap(auc, column(labels, m.width, k), [column(r.scores!, m.width, k)], [column(q.scores!, m.width, k)], boot);
        o.paired = { ...o.paired, [ref]: { diff: e.estimate, ci: e.ci } };
      });
    }
    if (Object.keys(paired).length === 0) return r;
    return { ...r, paired, ...(outputs ? { outputs } : {}) };
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

/** One (data, size, protocol, encoder, fraction) cell of the label-efficiency table, over its seeds. */
export interface EfficiencyCell {
  data: string;
  size: number;
  protocol: string;
  /** the encoder (its label) and how it was made */
  label: string;
  method: string;
  /** the rows' encoder architecture, where they name it */
  encoder?: string;
  /** where the encoder came from, when it is a pretext run */
  pretext?: PretextInfo;
  fraction: number;
  seeds: number[];
  n_train: number;
  accuracy: SeedSummary;
  auc: SeedSummary;
  /** seed-averaged differences to each reference (by method; seeds paired), when it was evaluated */
  vs: Record<string, { accuracy: SeedSummary; auc: SeedSummary }>;
  /** the same, against the best other encoder of the cell (highest seed-mean AUC, references aside), by label */
  best?: { label: string; accuracy: SeedSummary; auc: SeedSummary };
  /** a variant's difference to the encoder it is a variant of (its row's `base`), when that was evaluated */
  base?: { label: string; accuracy: SeedSummary; auc: SeedSummary };
  /** what was predicted (abnormal for rows before targets); `auc` is the macro mean of the outputs for classes and findings */
  target: string;
  /** rows of several outputs: each output's AUC over seeds and its difference to each reference */
  outputs?: OutputCell[];
}

/** One output (a class, one-vs-rest, or a finding) of a label-efficiency cell. */
export interface OutputCell {
  name: string;
  /** test images positive for it */
  n_pos: number;
  /** absent when the test split has one class for it */
  auc?: SeedSummary;
  vs: Record<string, SeedSummary>;
}

/**
 * The label-efficiency table: rows grouped over seeds. Head seeds for the full split, fraction
 * draws (and head seeds) below it, one line per encoder (label). Differences pair seed s of an encoder
 * with seed s of the reference.
 */
export function labelEfficiency(rows: ResultRow[], opts: { n?: number; seed?: number } = {}): EfficiencyCell[] {
  const boot = { n: opts.n ?? 1000, seed: opts.seed ?? 0 };
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    if (!r.scores || !r.test_labels) continue;
    const key = [r.data ?? '', r.size, r.protocol, targetOf(r), r.label, r.fraction].join('|');
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const cells: EfficiencyCell[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.seed - b.seed);
    const r0 = g[0];
    const labels = labelsOf(r0);
    const m = metricsOf(r0, labels);
    const summary = (metric: Metric, a: ResultRow[], b?: ResultRow[], k?: number): SeedSummary => {
      // one output k of several: its column, resampled by its own label; else the whole row
      const l = k === undefined ? labels : column(labels, m.width, k);
      const sc = (r: ResultRow) => (k === undefined ? r.scores! : column(r.scores!, m.width, k));
      const per = a.map((r, i) => metric(l, sc(r)) - (b ? metric(l, sc(b[i])) : 0));
      const e = pairedBootstrap(metric, l, a.map(sc), b?.map(sc), k === undefined ? { ...boot, width: m.width, strata: m.strata } : boot);
      return { mean: e.estimate, sd: meanSd(per).sd, ci: e.ci };
    };
    const pairsWith = (which: (x: ResultRow) => boolean) => {
      const pairs = g.flatMap((r) => {
        const q = partner(rows, r, which);
        return q ? [[r, q] as const] : [];
      });
      return pairs.length === 0 ? undefined : { a: pairs.map((p) => p[0]), b: pairs.map((p) => p[1]) };
    };
    const against = (which: (x: ResultRow) => boolean) => {
      const p = pairsWith(which);
      return p && { accuracy: summary(m.accuracy, p.a, p.b), auc: summary(m.auc, p.a, p.b) };
    };
    const vs: EfficiencyCell['vs'] = {};
    for (const ref of REFERENCE_METHODS) {
      const d = ref === r0.method ? undefined : against((x) => x.method === ref);
      if (d) vs[ref] = d;
    }
    const rivals = [...groups.values()].filter((o) => o !== g && !isReference(o[0]) && sameCell(o[0], r0));
    const meanAuc = (o: ResultRow[]) => o.reduce((s, r) => s + m.auc(labels, r.scores!), 0) / o.length;
    const top = rivals.sort((x, y) => meanAuc(y) - meanAuc(x))[0];
    const best = top && !isReference(r0) ? against((x) => x.label === top[0].label) : undefined;
    const base = r0.base ? against((x) => x.label === r0.base) : undefined;
    const outputs = m.width > 1 ? r0.outputs!.map((o, k) => outputCell(o.name, k)) : undefined;
    function outputCell(name: string, k: number): OutputCell {
      const nPos = r0.outputs![k].n_pos;
      if (r0.outputs![k].auc === undefined) return { name, n_pos: nPos, vs: {} };
      const vs: Record<string, SeedSummary> = {};
      for (const ref of REFERENCE_METHODS) {
        const p = ref === r0.method ? undefined : pairsWith((x) => x.method === ref);
        if (p) vs[ref] = summary(auc, p.a, p.b, k);
      }
      return { name, n_pos: nPos, auc: summary(auc, g, undefined, k), vs };
    }
    cells.push({
      data: r0.data ?? '',
      size: r0.size,
      protocol: r0.protocol,
      label: r0.label,
      method: r0.method,
      ...(r0.encoder ? { encoder: r0.encoder } : {}),
      ...(r0.pretext ? { pretext: r0.pretext } : {}),
      fraction: r0.fraction,
      seeds: g.map((r) => r.seed),
      n_train: meanSd(g.map((r) => r.n_train ?? 0)).mean,
      accuracy: summary(m.accuracy, g),
      auc: summary(m.auc, g),
      vs,
      target: r0.target ?? 'abnormal',
      ...(outputs ? { outputs } : {}),
      ...(best ? { best: { label: top[0].label, ...best } } : {}),
      ...(base ? { base: { label: r0.base!, ...base } } : {}),
    });
  }
  return cells;
}
