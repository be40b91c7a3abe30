import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import { readResultsFile } from '@cxr-ssl/eval';
import { type CurvePoint, runCurves, writePlots } from './plots.ts';
import { writeResults } from './report.ts';

/** For tests: the real H200 resnet18 study of docs/results (rows, pretext metrics). */
export const STUDY = join(repoRoot(), 'docs', 'results', 'h200-2026-12-04', 'study');

/** Copies the study's rows and runs to `dir` (not its reports) and writes results.md, the plots and results.html there. */
export async function writeStudyReportTo(dir: string): Promise<void> {
  cpSync(STUDY, dir, { recursive: true, filter: (src) => !/\.(svg|png|md|html)$/.test(src) });
  const runs = join(dir, 'runs');
  const curves = readdirSync(runs).flatMap((r) => runCurves(join(runs, r), r.replace(/-\d+$/, ''), 128));
  await writeReportFrom(dir, dir, 'H200 resnet18 study at 128 px', curves);
}

/** The fixture evaluation of docs/results: 4 encoders (random, ImageNet, two DINO runs), linear and kNN, 1/10/100 %, 3 seeds. */
export const FIXTURE_EVAL = join(repoRoot(), 'docs', 'results', 'eval-fixture-mnv2-2026-12-07');
/** A demo's results (7 methods and random init, linear on all labels, one seed). */
export const FIXTURE_DEMO = join(repoRoot(), 'docs', 'results', 'demo-2026-12-07');

/** The report of the rows in `src`/results.json, written to `dir` as eval writes it (results.json, results.md, plots, results.html). */
export async function writeReportFrom(src: string, dir: string, title: string, curves: CurvePoint[] = []): Promise<void> {
  const rows = readResultsFile(join(src, 'results.json')).rows;
  mkdirSync(dir, { recursive: true });
  const cells = writeResults(dir, rows, title);
  await writePlots(dir, rows, curves, cells);
}
