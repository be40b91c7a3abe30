import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { EVAL_BOARD_FILES, type EfficiencyCell, type ResultRow, STUDY_PROTOCOL } from '@cxr-ssl/eval';
import { heldOutHistory, MetricsLog } from '@cxr-ssl/train';
import sharp from 'sharp';
import { type ColourScale, encoderColours, legendValues } from './encoder-colours.ts';
import { finishReport } from './html-report.ts';
import { leadFigureSpec, leadPlotName } from './lead-figure.ts';
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
export function pretextCurvesSpec(points: CurvePoint[], colour?: ColourScale): TopLevelSpec {
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
        x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: 'd', tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { format: '.3~r' } }, // a flat series would read 0.500000
        color: { field: 'task', type: 'nominal', ...(colour ? { scale: colour, legend: { values: legendValues(colour, points.map((p) => p.task)) } } : {}) },
        strokeDash: { field: 'chance', type: 'nominal', legend: { title: 'chance level' } },
      },
    },
  };
}

/** The plots a report may hold, by file name without its extension. */
const PLOTS = ['pretext-curves', 'linear-eval', 'roc', 'label-efficiency', 'auc-by-encoder', 'reliability'] as const;

/** Every file a report writes into its folder: results.json/.md/.html and the plots (SVG and PNG). */
export const REPORT_FILES = ['results.json', 'results.md', 'results.html', ...PLOTS.flatMap((p) => [`${p}.svg`, `${p}.png`]), ...EVAL_BOARD_FILES];

/** Which rows a headline plot shows: "knn, 10% of the labels, seed 1" (headlineRows picks one protocol, fraction and seed). */
export function headlineText(rows: ResultRow[]): string {
  const r = rows[0];
  return r ? `${r.protocol}, ${+(100 * r.fraction).toPrecision(3)}% of the labels, seed ${r.seed}` : '';
}

/** Accuracy and AUC (%) per encoder (label) with 95% bootstrap CIs as error bars, a column per size; the majority baseline as a dashed rule. */
export function resultBarsSpec(rows: ResultRow[], colour: ColourScale = encoderColours(rows)): TopLevelSpec {
  const long = rows.flatMap((r) => [
    { encoder: r.label, size: r.size, metric: 'accuracy (%)', value: 100 * r.accuracy, lo: 100 * (r.ci?.accuracy[0] ?? r.accuracy), hi: 100 * (r.ci?.accuracy[1] ?? r.accuracy), majority: 100 * r.majority_accuracy },
    { encoder: r.label, size: r.size, metric: 'AUC (%)', value: 100 * r.auc, lo: 100 * (r.ci?.auc[0] ?? r.auc), hi: 100 * (r.ci?.auc[1] ?? r.auc), majority: 50 },
  ]);
  const x = { field: 'encoder', type: 'nominal' as const, sort: colour.domain, title: null, axis: { labelAngle: -40 } };
  const y = { type: 'quantitative' as const, scale: { domain: [0, 100] }, title: null, axis: { format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Test accuracy and AUC: ${headlineText(rows)}`, subtitle: 'error bars: 95 % bootstrap CI; dashed: majority class / chance', anchor: 'start' },
    data: { values: long },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'size', type: 'ordinal', title: 'image size (px)' } },
    spec: {
      width: { step: 28 },
      height: 150,
      layer: [
        { mark: 'bar', encoding: { x, y: { field: 'value', ...y }, color: { field: 'encoder', type: 'nominal', scale: colour, legend: null } } },
        { mark: { type: 'rule', color: '#333' }, encoding: { x, y: { field: 'lo', ...y }, y2: { field: 'hi' } } },
        { mark: { type: 'tick', color: '#333', size: 9, thickness: 1.5 }, encoding: { x, y: { field: 'lo', ...y } } },
        { mark: { type: 'tick', color: '#333', size: 9, thickness: 1.5 }, encoding: { x, y: { field: 'hi', ...y } } },
        { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { aggregate: 'max', field: 'majority', type: 'quantitative' } } },
      ],
    },
  };
}

/** ROC curves per encoder (label), a column per size. */
export function rocSpec(rows: ResultRow[], colour: ColourScale = encoderColours(rows)): TopLevelSpec {
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
        x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] }, axis: { format: '.1f' } },
        y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] }, axis: { format: '.1f' } },
        color: { field: 'encoder', type: 'nominal', scale: colour, title: 'encoder', legend: { values: legendValues(colour, rows.map((r) => r.label)) } },
        order: { field: 'order', type: 'quantitative' },
      },
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

/**
 * Every plot of a report, each encoder in one colour across them: the lead figure (label efficiency, or
 * AUC per encoder with one fraction) from the seed-averaged cells, the bars and ROC of the headline rows,
 * the pretext curves. Then results.md gets its plots and results.html is written (finishReport).
 */
export async function writePlots(dir: string, rows: ResultRow[], curves: CurvePoint[], cells: EfficiencyCell[] = []): Promise<string[]> {
  const written: string[] = [];
  const out = (name: string) => {
    written.push(`${name}.svg`, `${name}.png`);
    return join(dir, name);
  };
  const colour = encoderColours(rows, curves.map((c) => c.task));
  if (cells.length > 0) await renderChart(leadFigureSpec(cells, colour), out(leadPlotName(cells)));
  if (curves.length > 0) await renderChart(pretextCurvesSpec(curves, colour), out('pretext-curves'));
  const main = headlineRows(rows);
  if (main.length > 0) {
    await renderChart(resultBarsSpec(main, colour), out('linear-eval'));
    await renderChart(rocSpec(main, colour), out('roc'));
    if (main.some((r) => r.outputs?.some((o) => o.reliability))) await renderChart(reliabilitySpec(main, headlineText(main), colour), out('reliability'));
  }
  // an earlier report's plot that this one has not (e.g. label efficiency) would pass for a plot of these results
  for (const p of PLOTS) for (const ext of ['svg', 'png']) if (!written.includes(`${p}.${ext}`)) rmSync(join(dir, `${p}.${ext}`), { force: true });
  finishReport(dir, written); // results.md shows the PNGs; results.html embeds the SVGs
  return written;
}
