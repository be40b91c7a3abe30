import { join } from 'node:path';
import type { MetricsLine } from '../metrics-log.ts';
import { CsvLogger } from './csv.ts';
import type { LoggerName, MetricsLogger } from './logger.ts';
import { TensorboardLogger } from './tensorboard.ts';

export { CSV_COLUMNS, CsvLogger } from './csv.ts';
export { LOGGER_NAMES, LoggerOption, type LoggerName, type MetricsLogger } from './logger.ts';
export { tensorboardTag, TensorboardLogger } from './tensorboard.ts';
export { crc32c, maskedCrc32c, readTfrecords, tfrecord } from './tfrecord.ts';

/** Logger registry: one line per logger, each writing into the run folder. */
const LOGGERS: Record<LoggerName, (dir: string) => MetricsLogger> = {
  tensorboard: (dir) => new TensorboardLogger(dir),
  csv: (dir) => new CsvLogger(join(dir, 'metrics.csv')),
};

/** The chosen loggers of a run folder as one. */
export function openLoggers(dir: string, names: readonly LoggerName[]): Required<MetricsLogger> {
  const all = names.map((n) => LOGGERS[n](dir));
  return {
    write: (line: MetricsLine) => {
      for (const l of all) l.write(line);
    },
    resumeAt: (step: number) => {
      for (const l of all) l.resumeAt?.(step);
    },
  };
}
