import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { TensorboardLogger } from '@cxr-ssl/train';
import type { ResultRow } from './evaluate.ts';

/** The folder and file an evaluation's rows go to beside results.json, for TensorBoard and spreadsheets. */
export const EVAL_BOARD_FILES = ['tensorboard', 'metrics.csv'] as const;

const METRICS = ['accuracy', 'auc', 'balanced_accuracy', 'sensitivity', 'specificity'] as const;
export const EVAL_CSV_COLUMNS = ['label', 'method', 'encoder', 'data', 'size', 'protocol', 'fraction', 'seed', 'n_train', 'n_test', ...METRICS, 'majority_accuracy', 'accuracy_lo', 'accuracy_hi', 'auc_lo', 'auc_hi', 'weights_sha256'] as const;

/** Label fraction as a TensorBoard step: per mille of the train split (1 % -> 10, 100 % -> 1000). */
export const fractionStep = (fraction = 1) => Math.round(fraction * 1000);

/**
 * An evaluation's rows as TensorBoard scalars and a CSV, in `dir` (the evaluation's folder):
 * `tensorboard/<label>/` holds one event file per encoder (its label: TensorBoard's runs), tags
 * `<protocol>/<metric>` (the mean over seeds) and `<protocol>/seed<k>/<metric>`, the step being the label
 * fraction in per mille, so each tag draws the label-efficiency curve; `metrics.csv` has one line per row
 * (encoder label, protocol, fraction, seed). Both are rewritten whole: the folder is built aside and renamed.
 */
export function writeEvalBoard(dir: string, rows: ResultRow[]): { csv: string; board: string } {
  const csv = join(dir, 'metrics.csv');
  // RFC 4180: a value with a comma, quote or line break is quoted, its quotes doubled (a --label may hold any of them)
  const cell = (v: unknown) => (v === undefined ? '' : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = rows.map((r) => {
    const values: Partial<Record<(typeof EVAL_CSV_COLUMNS)[number], unknown>> = {
      ...r,
      accuracy_lo: r.ci.accuracy[0],
      accuracy_hi: r.ci.accuracy[1],
      auc_lo: r.ci.auc[0],
      auc_hi: r.ci.auc[1],
    };
    return EVAL_CSV_COLUMNS.map((c) => cell(values[c])).join(',');
  });
  writeFileAtomic(csv, `${[EVAL_CSV_COLUMNS.join(','), ...lines].join('\n')}\n`);

  const board = join(dir, 'tensorboard');
  const building = `${board}.tmp-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  for (const label of new Set(rows.map((r) => r.label))) {
    const logger = new TensorboardLogger(join(building, label.replace(/[/\\]/g, '_')));
    const mine = rows.filter((r) => r.label === label);
    for (const fraction of new Set(mine.map((r) => r.fraction))) {
      const scalars: Record<string, number> = {};
      for (const protocol of new Set(mine.map((r) => r.protocol))) {
        const cellRows = mine.filter((r) => r.fraction === fraction && r.protocol === protocol);
        if (cellRows.length === 0) continue;
        for (const m of METRICS) {
          scalars[`${protocol}/${m}`] = cellRows.reduce((a, r) => a + r[m], 0) / cellRows.length;
          for (const r of cellRows) scalars[`${protocol}/seed${r.seed}/${m}`] = r[m];
        }
      }
      logger.scalars(fractionStep(fraction), scalars);
    }
  }
  mkdirSync(building, { recursive: true });
  if (existsSync(board)) rmSync(board, { recursive: true });
  renameSync(building, board);
  return { csv, board };
}
