import type { MethodRun } from './method-options.ts';
import type { MetricsLine } from './metrics-log.ts';
import type { HeldOutResult } from './pretext-eval.ts';

/**
 * Collapsed: a spread below SPREAD_FLOOR (collapse.ts: ~1 healthy, 0 collapsed) and an effective rank below
 * RANK_FLOOR of the most it can be (min(rows - 1, dim)). Both, because an untrained projector without
 * BatchNorm (SimCLR's, MoCo's) already has a low spread (its inputs, ReLU features, share one direction) but
 * a high rank. Measured on the fixture at 64 px, 112 held-out rows of 128 dims (docs/DEMO.md): SimCLR at
 * lr 0.05 collapsed (loss at ln 63) to spread 0.019-0.037, rank 6.4-7.6; untrained projections 0.04-0.08,
 * rank 54-57; learning runs 0.2-0.7, rank 29-48.
 */
export const SPREAD_FLOOR = 0.05;
export const RANK_FLOOR = 0.1;
/** a training loss within this fraction of ln K (K candidates) is at chance */
export const CHANCE_MARGIN = 0.02;
/** the fewest steps (or one epoch, when longer) a loss must sit at chance before it is reported */
const CHANCE_STEPS = 5;

/** What a held-out pass finds: a sign that the run does not learn, or that a reported one has gone. */
export interface HealthNote {
  kind: 'chance' | 'collapse';
  /** false: the sign appeared (a warning); true: it has gone since it was reported */
  cleared: boolean;
  message: string;
}

/**
 * Does the run learn? Two signs that it does not, each reported when it appears (naming the likely causes
 * and the flags that change them: the method's collapseHint) and again when it goes (a loss that sits at
 * chance early and then leaves it: a run that took a while to start, such as jigsaw on the fixture):
 * - the training loss sat at its chance value, ln K, over the steps since the last held-out pass (after
 *   the warm-up, at least an epoch or CHANCE_STEPS): the loss cannot tell the right candidate from K;
 * - a held-out pass's collapse measure: the method's embeddings no longer differ between images.
 */
export class RunHealth {
  private losses: number[] = [];
  private from = 0;
  private readonly active = new Set<HealthNote['kind']>();

  constructor(
    private readonly method: MethodRun,
    private readonly o: { batchSize: number; warmup: number; stepsPerEpoch: number },
  ) {}

  /** the loss of update `step` (1-based: steps taken) */
  trainLoss(step: number, loss: number): void {
    if (step <= this.o.warmup) return; // a warm-up may pass through chance on its way
    if (this.losses.length === 0) this.from = step;
    this.losses.push(loss);
  }

  /** what a held-out pass at `step` changes (nothing while the run learns) */
  afterHeldOut(step: number, val: HeldOutResult): HealthNote[] {
    const out: HealthNote[] = [];
    const hint = `Likely causes: ${this.method.collapseHint()}.`;
    const name = this.method.name;
    const k = this.method.candidates(this.o.batchSize, false);
    if (k !== undefined && k > 1 && this.losses.length >= Math.max(CHANCE_STEPS, this.o.stepsPerEpoch)) {
      const mean = this.losses.reduce((a, b) => a + b, 0) / this.losses.length;
      const steps = `steps ${this.from}-${step} (mean ${mean.toFixed(3)}; ln ${k} = ${Math.log(k).toFixed(3)}`;
      const note = this.change('chance', mean >= (1 - CHANCE_MARGIN) * Math.log(k), {
        warn: `${name}: the training loss sat at its chance value over ${steps}, a uniform guess among ${k} candidates): it is not learning. ${hint}`,
        clear: `${name}: the training loss has left its chance value: ${steps}).`,
      });
      if (note) out.push(note);
      this.losses = [];
    }
    const e = val.collapse?.embedding;
    if (e) {
      const most = Math.min(e.rows - 1, e.dim);
      const measure = `a spread of ${e.spread.toFixed(3)} (about 1 when they spread over the sphere, 0 when every image gives the same one) and an effective rank of ${e.rank.toFixed(1)} of at most ${most}`;
      const note = this.change('collapse', e.spread < SPREAD_FLOOR && e.rank < RANK_FLOOR * most, {
        warn: `${name}: collapsed at step ${step}: its held-out embeddings have ${measure}. ${hint}`,
        clear: `${name}: no longer collapsed at step ${step}: its held-out embeddings have ${measure}.`,
      });
      if (note) out.push(note);
    }
    return out;
  }

  /** a note when the sign appears or goes, none while it stays as it was */
  private change(kind: HealthNote['kind'], now: boolean, text: { warn: string; clear: string }): HealthNote | undefined {
    if (now === this.active.has(kind)) return undefined;
    if (now) this.active.add(kind);
    else this.active.delete(kind);
    return { kind, cleared: !now, message: now ? text.warn : text.clear };
  }
}

/** The run's warnings whose sign was still there at its last held-out pass, and those that went (metrics.jsonl). */
export function runWarnings(lines: MetricsLine[]): { active: string[]; cleared: string[] } {
  const last = new Map<string, MetricsLine>();
  for (const l of lines) if (l.kind === 'warning') last.set(String(l.warning ?? l.message), l);
  const all = [...last.values()];
  const warned = (l: MetricsLine) => lines.filter((w) => w.kind === 'warning' && !w.cleared && w.warning === l.warning).map((w) => String(w.message));
  return { active: all.filter((l) => !l.cleared).map((l) => String(l.message)), cleared: all.filter((l) => l.cleared).flatMap((l) => [...warned(l), String(l.message)]) };
}
