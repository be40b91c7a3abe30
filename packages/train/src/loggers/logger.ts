import { z } from 'zod';
import type { MetricsLine } from '../metrics-log.ts';

/** Where training metrics go besides metrics.jsonl (which is always written: resume and reports read it). */
export interface MetricsLogger {
  write(line: MetricsLine): void;
  /** the run continues from a checkpoint at `step` */
  resumeAt?(step: number): void;
}

export const LOGGER_NAMES = ['tensorboard', 'csv'] as const;
export type LoggerName = (typeof LOGGER_NAMES)[number];

/** `--logger tensorboard,csv` (the default) | `tensorboard` | `csv` | `none`: the one schema and default. */
export const LoggerOption = z
  .union([z.string(), z.array(z.string())])
  .default('tensorboard,csv')
  .transform((v, ctx) => {
    const names = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    if (names.length === 1 && names[0] === 'none') return [] as LoggerName[];
    const bad = names.filter((n) => !(LOGGER_NAMES as readonly string[]).includes(n));
    if (bad.length > 0 || names.length === 0) {
      ctx.addIssue({ code: 'custom', message: `logger ${bad.join(', ') || '(empty)'}: give ${LOGGER_NAMES.join(',')} (any of them, comma-separated) or none` });
      return z.NEVER;
    }
    return [...new Set(names)] as LoggerName[];
  });
