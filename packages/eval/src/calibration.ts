import { z } from 'zod';
import type { Labels, Scores } from './metrics.ts';

/**
 * Calibration of predicted probabilities: does P = 0.8 come true 80 % of the time? Scores are
 * binned into equal-width bins of [0, 1]; each bin's mean prediction against the share of positives
 * in it is the reliability diagram, and the expected calibration error (ECE, Naeini et al. 2015;
 * Guo et al. 2017) is their mean absolute gap weighted by the bins' sizes. Per output: P(abnormal),
 * P(class k) against "is class k", P(finding) against "has it".
 */

export const CALIBRATION_BINS = 10;

export const ReliabilityBin = z.object({
  /** the bin is [lo, hi) (the last one includes 1) */
  lo: z.number(),
  hi: z.number(),
  n: z.number().int().nonnegative(),
  /** mean predicted probability of its images */
  predicted: z.number(),
  /** share of them that are positive */
  observed: z.number(),
});
export type ReliabilityBin = z.infer<typeof ReliabilityBin>;

/** The non-empty bins of the reliability diagram. */
export function reliabilityBins(labels: Labels, scores: Scores, bins = CALIBRATION_BINS): ReliabilityBin[] {
  if (labels.length !== scores.length || labels.length === 0) throw new Error(`reliabilityBins: ${labels.length} labels and ${scores.length} scores: one score per label, at least one`);
  const n = new Int32Array(bins);
  const p = new Float64Array(bins);
  const y = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const s = scores[i];
    if (!(s >= 0 && s <= 1)) throw new Error(`reliabilityBins: score ${s} at row ${i} is not a probability in [0, 1]`);
    const b = Math.min(bins - 1, Math.floor(s * bins));
    n[b]++;
    p[b] += s;
    y[b] += labels[i] === 1 ? 1 : 0;
  }
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) if (n[b] > 0) out.push({ lo: b / bins, hi: (b + 1) / bins, n: n[b], predicted: p[b] / n[b], observed: y[b] / n[b] });
  return out;
}

/** Expected calibration error: sum over bins of (bin size / total) x |mean prediction - share positive|. */
export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number {
  const total = bins.reduce((s, b) => s + b.n, 0);
  return bins.reduce((s, b) => s + (b.n / total) * Math.abs(b.predicted - b.observed), 0);
}
