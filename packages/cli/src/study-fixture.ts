import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import { readResultsFile } from '@cxr-ssl/eval';
import { runCurves, writePlots } from './plots.ts';
import { writeResults } from './report.ts';

/** For tests: the real H200 resnet18 study of docs/results (rows, pretext metrics). */
export const STUDY = join(repoRoot(), 'docs', 'results', 'h200-2026-12-04', 'study');

/** Copies the study's rows and runs to `dir` (not its reports) and writes results.md, the plots and results.html there. */
export async function writeStudyReportTo(dir: string): Promise<void> {
  cpSync(STUDY, dir, { recursive: true, filter: (src) => !/\.(svg|png|md|html)$/.test(src) });
  const rows = readResultsFile(join(dir, 'results.json')).rows;
  const runs = join(dir, 'runs');
  const curves = readdirSync(runs).flatMap((r) => runCurves(join(runs, r), r.replace(/-\d+$/, ''), 128));
  const cells = writeResults(dir, rows, 'H200 resnet18 study at 128 px');
  await writePlots(dir, rows, curves, cells);
}
