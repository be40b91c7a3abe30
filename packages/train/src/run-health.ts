import type { MethodRun } from './method-options.ts';
import type { HeldOutResult } from './pretext-eval.ts';

/**
 * Below this spread (collapse.ts: ~1 healthy, 0 collapsed) a run's held-out embeddings have collapsed.
 * Measured on the fixture at 64 px (docs/DEMO.md): SimCLR at lr 5 (collapsed, loss at ln 63) 0.00x;
 * every method at the demo's settings 0.3 or more; random init's encoder features 0.3.
 */
export const SPREAD_FLOOR = 0.1;
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
    if (e && e.spread < SPREAD_FLOOR && this.once('collapse')) {
      out.push(
        `${this.method.name}: collapsed at step ${step}: the spread of its held-out embeddings is ${e.spread.toFixed(3)} (about 1 when they spread over the sphere, 0 when every image gives the same one; below ${SPREAD_FLOOR} is collapse), effective rank ${e.rank.toFixed(1)} of ${e.dim}. ${hint()}`,
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
