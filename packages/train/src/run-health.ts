import type { MethodRun } from './method-options.ts';
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

/**
 * Does the run learn? Two signs that it does not, each reported once per run, naming the likely
 * causes and the flags that change them (the method's collapseHint):
 * - the training loss sat at its chance value, ln K, over the steps since the last held-out pass (after
 *   the warm-up, at least an epoch or CHANCE_STEPS): the loss cannot tell the right candidate from K;
 * - a held-out pass's collapse measure: the method's embeddings no longer differ between images.
 */
export class RunHealth {
  private losses: number[] = [];
  private from = 0;
  private readonly warned = new Set<'chance' | 'collapse'>();

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

  /** the warnings a held-out pass at `step` brings (none when the run learns) */
  afterHeldOut(step: number, val: HeldOutResult): string[] {
    const out: string[] = [];
    const hint = () => `Likely causes: ${this.method.collapseHint()}.`;
    const k = this.method.candidates(this.o.batchSize, false);
    if (k !== undefined && k > 1 && this.losses.length >= Math.max(CHANCE_STEPS, this.o.stepsPerEpoch)) {
      const mean = this.losses.reduce((a, b) => a + b, 0) / this.losses.length;
      if (mean >= (1 - CHANCE_MARGIN) * Math.log(k) && this.once('chance')) {
        out.push(
          `${this.method.name}: the training loss sat at its chance value over steps ${this.from}-${step} (mean ${mean.toFixed(3)}; ln ${k} = ${Math.log(k).toFixed(3)}, a uniform guess among ${k} candidates): it is not learning. ${hint()}`,
        );
      }
      this.losses = [];
    }
    const e = val.collapse?.embedding;
    const most = e ? Math.min(e.rows - 1, e.dim) : 0;
    if (e && e.spread < SPREAD_FLOOR && e.rank < RANK_FLOOR * most && this.once('collapse')) {
      out.push(
        `${this.method.name}: collapsed at step ${step}: its held-out embeddings have a spread of ${e.spread.toFixed(3)} (about 1 when they spread over the sphere, 0 when every image gives the same one) and an effective rank of ${e.rank.toFixed(1)} of at most ${most}. ${hint()}`,
      );
    }
    return out;
  }

  private once(kind: 'chance' | 'collapse'): boolean {
    if (this.warned.has(kind)) return false;
    this.warned.add(kind);
    return true;
  }
}
