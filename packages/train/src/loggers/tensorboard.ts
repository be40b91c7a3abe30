import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { MetricsLine } from '../metrics-log.ts';
import { fileVersionEvent, scalarsEvent, sessionStartEvent } from './event.ts';
import type { MetricsLogger } from './logger.ts';
import { tfrecord } from './tfrecord.ts';

/** TensorBoard tag of a metrics field: step lines are `train/…`, epoch lines `epoch/…`, held-out `val/…`. */
export function tensorboardTag(kind: string, key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (snake.startsWith('val_')) return `val/${snake.slice(4)}`;
  return `${kind === 'step' ? 'train' : kind}/${snake}`;
}

const SKIP = new Set(['kind', 'step', 'epoch', 'batch']);

const bySource = (v: unknown): Record<string, Record<string, unknown>> => (v && typeof v === 'object' ? (v as Record<string, Record<string, unknown>>) : {});

/**
 * One event file per process in the run folder (`tensorboard --logdir runs` shows each run), each
 * record appended whole, so TensorBoard can read it while training runs.
 */
export class TensorboardLogger implements MetricsLogger {
  readonly path: string;
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    // the trailing number keeps two writers of one second and process apart (TensorBoard reads every file)
    let n = 0;
    while (existsSync(join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${n}`))) n++;
    this.path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${n}`);
    appendFileSync(this.path, tfrecord(fileVersionEvent(now)));
  }
  write(line: MetricsLine): void {
    const scalars: Record<string, number> = {};
    for (const [k, v] of Object.entries(line)) if (!SKIP.has(k) && typeof v === 'number' && Number.isFinite(v)) scalars[tensorboardTag(line.kind, k)] = v;
    // a pooled run's held-out figures per set (valBySource): `val/accuracy/<set>`, beside the pool's `val/accuracy`
    for (const [set, figures] of Object.entries(bySource(line.valBySource))) {
      for (const [k, v] of Object.entries(figures)) if (typeof v === 'number' && Number.isFinite(v) && k !== 'samples') scalars[`${tensorboardTag(line.kind, `val_${k}`)}/${set}`] = v;
    }
    this.scalars(line.step, scalars);
  }
  /** scalars under tags of the caller's choosing at `step` (eval's rows: eval/src/tensorboard.ts) */
  scalars(step: number, scalars: Record<string, number>): void {
    if (Object.keys(scalars).length > 0) appendFileSync(this.path, tfrecord(scalarsEvent(Date.now() / 1000, step, scalars)));
  }
  /** a resumed run: TensorBoard discards what earlier files logged after the checkpoint's `step` */
  resumeAt(step: number): void {
    appendFileSync(this.path, tfrecord(sessionStartEvent(Date.now() / 1000, step + 1)));
  }
}
