import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import type { EfficiencyCell, ResultRow } from '@cxr-ssl/eval';
import { heldOutHistory, MetricsLog } from '@cxr-ssl/train';
import sharp from 'sharp';
import { finishReport } from './html-report.ts';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Render a Vega-Lite spec headless to SVG (vega's own renderer) and PNG (sharp rasterises the SVG). */
export async function renderChart(spec: TopLevelSpec, outBase: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileAtomic(`${outBase}.svg`, svg);
  writeFileAtomic(`${outBase}.png`, await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
}

/** One point of a run's curves: x is the optimiser step. */
export interface CurvePoint {
  task: string;
  size: number;
  step: number;
  metric: 'train loss' | 'held-out top-1' | 'held-out chance' | 'spread (collapse)';
  value: number;
}

/**
 * A run folder's curves (metrics.jsonl): the train loss per epoch, and each held-out pass's top-1 with
 * its chance level and the spread of the method's embeddings (~1 healthy, 0 collapsed; collapse.ts).
 */
export function runCurves(runDir: string, task: string, size: number): CurvePoint[] {
  const point = (step: number, metric: CurvePoint['metric'], value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? [{ task, size, step, metric, value }] : []);
  const epochs = new MetricsLog(join(runDir, 'metrics.jsonl')).read().filter((l) => l.kind === 'epoch');
  return [
    ...epochs.flatMap((l) => point(l.step, 'train loss', l.loss)),
    ...heldOutHistory(runDir).flatMap((h) => [...point(h.step, 'held-out top-1', h.valAccuracy), ...point(h.step, 'held-out chance', h.valChance), ...point(h.step, 'spread (collapse)', h.valSpread)]),
  ];
}

/** Pretext curves, one line per task (a chance level dashed), a row per metric, a column per image size. */
export function pretextCurvesSpec(points: CurvePoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Pretext training',
    data: { values: points.map((p) => ({ ...p, row: p.metric === 'held-out chance' ? 'held-out top-1' : p.metric, chance: p.metric === 'held-out chance' })) },
    facet: { row: { field: 'row', type: 'nominal', title: null, sort: ['train loss', 'held-out top-1', 'spread (collapse)'] }, column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'task', type: 'nominal' },
        strokeDash: { field: 'chance', type: 'nominal', legend: { title: 'chance level' } },
      },
    },
  };
}

/** Accuracy and AUC per init with 95% bootstrap CIs, a column per size; the majority baseline as a rule. */
export function resultBarsSpec(rows: ResultRow[]): TopLevelSpec {
  const long = rows.flatMap((r) => [
    { init: r.init, size: r.size, metric: 'accuracy', value: r.accuracy, lo: r.ci?.accuracy[0], hi: r.ci?.accuracy[1], majority: r.majority_accuracy },
    { init: r.init, size: r.size, metric: 'AUC', value: r.auc, lo: r.ci?.auc[0], hi: r.ci?.auc[1], majority: 0.5 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Linear evaluation (95% bootstrap CI; dashed: majority class / chance)',
    data: { values: long },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    spec: {
      width: 220,
      height: 160,
      layer: [
        { mark: 'bar', encoding: { x: { field: 'init', type: 'nominal', title: null }, y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: null }, color: { field: 'init', type: 'nominal', legend: null } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'init', type: 'nominal' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { aggregate: 'max', field: 'majority', type: 'quantitative' } } },
      ],
    },
  };
}

/** ROC curves per init, a column per size. */
export function rocSpec(rows: ResultRow[]): TopLevelSpec {
  const values = rows.flatMap((r) => r.roc.map(([fpr, tpr], i) => ({ init: r.init, size: r.size, fpr, tpr, order: i })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'ROC, test split',
    data: { values },
    facet: { column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    spec: {
      width: 220,
      height: 220,
      mark: 'line',
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
        y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
        color: { field: 'init', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
      },
    },
  };
}

/** Accuracy and AUC against the label fraction (log scale), a line per init, 95% CIs as error bars. */
export function labelEfficiencySpec(cells: EfficiencyCell[]): TopLevelSpec {
  const long = cells.flatMap((c) => [
    { init: c.init, panel: `${c.protocol}, ${c.size} px`, fraction: c.fraction, metric: 'accuracy', value: c.accuracy.mean, lo: c.accuracy.ci[0], hi: c.accuracy.ci[1] },
    { init: c.init, panel: `${c.protocol}, ${c.size} px`, fraction: c.fraction, metric: 'AUC', value: c.auc.mean, lo: c.auc.ci[0], hi: c.auc.ci[1] },
  ]);
  const x = { field: 'fraction', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'share of training labels', axis: { format: '.0%' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Label efficiency (mean over seeds, 95% bootstrap CI)',
    data: { values: long },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'panel', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 240,
      height: 170,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } }, color: { field: 'init', type: 'nominal' } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'init', type: 'nominal' } } },
      ],
    },
  };
}

/** One row per (init, size) for the bar and ROC plots: linear (else the first protocol), all labels, first seed. */
export function headlineRows(rows: ResultRow[]): ResultRow[] {
  if (rows.length === 0) return [];
  const protocols = rows.map((r) => r.protocol ?? 'linear');
  const protocol = protocols.includes('linear') ? 'linear' : protocols[0];
  const these = rows.filter((r) => (r.protocol ?? 'linear') === protocol);
  const fraction = Math.max(...these.map((r) => r.fraction ?? 1));
  const seed = Math.min(...these.map((r) => r.seed ?? 0));
  return these.filter((r) => (r.fraction ?? 1) === fraction && (r.seed ?? 0) === seed);
}

/**
 * The pretext curves added to a report whose other plots writePlots already made (the demo: its
 * evaluation wrote results.md and the evaluation plots): renders only the curves, then renews the plot
 * section with every plot the folder holds.
 */
export async function addCurvesPlot(dir: string, curves: CurvePoint[]): Promise<void> {
  if (curves.length > 0) await renderChart(pretextCurvesSpec(curves), join(dir, 'pretext-curves'));
  const order = ['pretext-curves', 'linear-eval', 'roc', 'label-efficiency'];
  finishReport(dir, order.filter((name) => existsSync(join(dir, `${name}.png`))).flatMap((name) => [`${name}.svg`, `${name}.png`]));
}

export async function writePlots(dir: string, rows: ResultRow[], curves: CurvePoint[], cells: EfficiencyCell[] = []): Promise<string[]> {
  const written: string[] = [];
  const out = (name: string) => {
    written.push(`${name}.svg`, `${name}.png`);
    return join(dir, name);
  };
  if (curves.length > 0) await renderChart(pretextCurvesSpec(curves), out('pretext-curves'));
  const main = headlineRows(rows);
  if (main.length > 0) {
    await renderChart(resultBarsSpec(main), out('linear-eval'));
    await renderChart(rocSpec(main), out('roc'));
  }
  if (new Set(cells.map((c) => c.fraction)).size > 1) await renderChart(labelEfficiencySpec(cells), out('label-efficiency'));
  finishReport(dir, written); // results.md shows the PNGs; results.html embeds the SVGs
  return written;
}
