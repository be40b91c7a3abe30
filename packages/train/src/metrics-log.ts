import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';

/** One line of metrics.jsonl. `step` is the global step, so a resumed run can drop what came after its checkpoint. */
export interface MetricsLine {
  /**
   * start: where a start or resume ran (engine, device, the renderer `--render auto` chose); step: a training
   * step; epoch: its means; heldout: a held-out pass (loop.ts HeldOutLine); warning: a run-health message;
   * timing: the run's phases
   */
  kind: 'start' | 'step' | 'epoch' | 'heldout' | 'warning' | 'timing';
  step: number;
  epoch: number;
  [key: string]: unknown;
}

export class MetricsLog {
  constructor(readonly path: string) {}

  append(line: MetricsLine): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }

  /** Keep only lines up to `step` (inclusive): the part a checkpoint at `step` vouches for. */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = this.read().filter((l) => l.step <= step);
    writeFileAtomic(this.path, kept.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }

  read(): MetricsLine[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((s) => s.trim() !== '')
      .flatMap((s) => {
        try {
          return [JSON.parse(s) as MetricsLine];
        } catch {
          return []; // a line torn by a kill mid-append: the checkpoint, not the log, is the truth
        }
      });
  }
}

/**
 * A held-out pass at `step`: the method's loss and top-1 with its chance level, and the collapse measure
 * (collapse.ts) of the method's embedding (a projector's output, else the encoder's features) and, for a
 * projector, of the encoder's features.
 */
export interface HeldOutLine {
  step: number;
  epoch: number;
  valLoss: number;
  valAccuracy: number;
  valChance?: number;
  valSpread?: number;
  valRank?: number;
  valEncoderSpread?: number;
  valEncoderRank?: number;
  /** a pooled run's sets, each on its own val images (run-data.ts); the figures above are over all of them */
  valBySource?: Record<string, { loss: number; accuracy: number; samples: number; chance?: number }>;
}

/**
 * The held-out passes of a run folder, oldest first (its metrics.jsonl; a run made before held-out
 * passes had lines of their own has them in its epoch lines).
 */
export function heldOutHistory(runDir: string): HeldOutLine[] {
  return new MetricsLog(join(runDir, 'metrics.jsonl'))
    .read()
    .filter((l) => l.kind === 'heldout' || (l.kind === 'epoch' && typeof l.valAccuracy === 'number'))
    .map((l) => l as unknown as HeldOutLine);
}
