import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { EVAL_BOARD_FILES, type EfficiencyCell, type ResultRow, STUDY_PROTOCOL } from '@cxr-ssl/eval';
import sharp from 'sharp';
import { finishReport } from './html-report.ts';
import { reliabilitySpec } from './targets-report.ts';
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

export interface CurvePoint {
  task: string;
  size: number;
  epoch: number;
  loss: number;
  accuracy: number;
  valAccuracy?: number;
}

/** Pretext loss and accuracy per epoch, one line per task, a column per image size. */
export function pretextCurvesSpec(points: CurvePoint[]): TopLevelSpec {
  const long = points.flatMap((p) => [
    { ...p, metric: 'train loss', value: p.loss },
    { ...p, metric: 'train accuracy', value: p.accuracy },
    ...(p.valAccuracy === undefined ? [] : [{ ...p, metric: 'val accuracy', value: p.valAccuracy }]),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Pretext training',
    data: { values: long },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'task', type: 'nominal' },
      },
    },
  };
}

/** The plots a report may hold, by file name without its extension. */
const PLOTS = ['pretext-curves', 'linear-eval', 'roc', 'label-efficiency', 'reliability'] as const;

/** Every file a report writes into its folder: results.json/.md/.html and the plots (SVG and PNG). */
export const REPORT_FILES = ['results.json', 'results.md', 'results.html', ...PLOTS.flatMap((p) => [`${p}.svg`, `${p}.png`]), ...EVAL_BOARD_FILES];

/** Which rows a headline plot shows: "knn, 10% of the labels, seed 1" (headlineRows picks one protocol, fraction and seed). */
export function headlineText(rows: ResultRow[]): string {
  const r = rows[0];
  return r ? `${r.protocol}, ${+(100 * r.fraction).toPrecision(3)}% of the labels, seed ${r.seed}` : '';
}

/** Accuracy and AUC per encoder (label) with 95% bootstrap CIs, a column per size; the majority baseline as a rule. */
export function resultBarsSpec(rows: ResultRow[]): TopLevelSpec {
  const long = rows.flatMap((r) => [
    { encoder: r.label, size: r.size, metric: 'accuracy', value: r.accuracy, lo: r.ci?.accuracy[0], hi: r.ci?.accuracy[1], majority: r.majority_accuracy },
    { encoder: r.label, size: r.size, metric: 'AUC', value: r.auc, lo: r.ci?.auc[0], hi: r.ci?.auc[1], majority: 0.5 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Test accuracy and AUC: ${headlineText(rows)} (95% bootstrap CI; dashed: majority class / chance)`,
    data: { values: long },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    spec: {
      width: 220,
      height: 160,
      layer: [
        { mark: 'bar', encoding: { x: { field: 'encoder', type: 'nominal', title: null }, y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: null }, color: { field: 'encoder', type: 'nominal', legend: null } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'encoder', type: 'nominal' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { aggregate: 'max', field: 'majority', type: 'quantitative' } } },
      ],
    },
  };
}

/** ROC curves per encoder (label), a column per size. */
export function rocSpec(rows: ResultRow[]): TopLevelSpec {
  const values = rows.flatMap((r) => r.roc.map(([fpr, tpr], i) => ({ encoder: r.label, size: r.size, fpr, tpr, order: i })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `ROC on the test split: ${headlineText(rows)}`,
    data: { values },
    facet: { column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    spec: {
      width: 220,
      height: 220,
      mark: 'line',
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
        y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
        color: { field: 'encoder', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
      },
    },
  };
}

/** Accuracy and AUC against the label fraction (log scale), a line per encoder (label), 95% CIs as error bars. */
export function labelEfficiencySpec(cells: EfficiencyCell[]): TopLevelSpec {
  const long = cells.flatMap((c) => [
    { encoder: c.label, panel: `${c.protocol}, ${c.size} px`, fraction: c.fraction, metric: 'accuracy', value: c.accuracy.mean, lo: c.accuracy.ci[0], hi: c.accuracy.ci[1] },
    { encoder: c.label, panel: `${c.protocol}, ${c.size} px`, fraction: c.fraction, metric: 'AUC', value: c.auc.mean, lo: c.auc.ci[0], hi: c.auc.ci[1] },
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
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } }, color: { field: 'encoder', type: 'nominal' } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'encoder', type: 'nominal' } } },
      ],
    },
  };
}

/** One row per (encoder, size) for the bar and ROC plots: the study's protocol (else the first), all labels, first seed. */
export function headlineRows(rows: ResultRow[]): ResultRow[] {
  if (rows.length === 0) return [];
  const protocols = rows.map((r) => r.protocol);
  const protocol = protocols.includes(STUDY_PROTOCOL) ? STUDY_PROTOCOL : protocols[0];
  const these = rows.filter((r) => r.protocol === protocol);
  const fraction = Math.max(...these.map((r) => r.fraction));
  const seed = Math.min(...these.map((r) => r.seed));
  return these.filter((r) => r.fraction === fraction && r.seed === seed);
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
    if (main.some((r) => r.outputs?.some((o) => o.reliability))) await renderChart(reliabilitySpec(main, headlineText(main)), out('reliability'));
  }
  if (new Set(cells.map((c) => c.fraction)).size > 1) await renderChart(labelEfficiencySpec(cells), out('label-efficiency'));
  // an earlier report's plot that this one has not (e.g. label efficiency) would pass for a plot of these results
  for (const p of PLOTS) for (const ext of ['svg', 'png']) if (!written.includes(`${p}.${ext}`)) rmSync(join(dir, `${p}.${ext}`), { force: true });
  finishReport(dir, written); // results.md shows the PNGs; results.html embeds the SVGs
  return written;
}
