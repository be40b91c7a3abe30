import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import type { MetricsLine } from '../metrics-log.ts';
import type { MetricsLogger } from './logger.ts';

/** metrics.csv columns: one fixed header, so a spreadsheet or pandas reads every run alike. */
export const CSV_COLUMNS = ['kind', 'step', 'epoch', 'batch', 'loss', 'accuracy', 'lr', 'samplesPerSec', 'valLoss', 'valAccuracy', 'valChance', 'valSpread', 'valRank', 'valEncoderSpread', 'valEncoderRank'] as const;

export class CsvLogger implements MetricsLogger {
  /** a file written before a column was added keeps its own header: rows follow it */
  private readonly columns: string[];
  constructor(readonly path: string) {
    if (!existsSync(path)) writeFileAtomic(path, `${CSV_COLUMNS.join(',')}\n`);
    this.columns = readFileSync(path, 'utf8').split('\n', 1)[0].split(',');
  }
  write(line: MetricsLine): void {
    const cell = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? String(v) : '');
    appendFileSync(this.path, `${this.columns.map((c) => cell(line[c])).join(',')}\n`);
  }
  /** keep the rows up to `step`: the part the checkpoint vouches for (like metrics.jsonl) */
  resumeAt(step: number): void {
    const [head, ...rows] = readFileSync(this.path, 'utf8').split('\n').filter((l) => l !== '');
    const kept = rows.filter((r) => Number(r.split(',')[1]) <= step);
    writeFileAtomic(this.path, [head, ...kept].map((l) => `${l}\n`).join(''));
  }
}
