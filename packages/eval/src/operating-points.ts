import { z } from 'zod';
import { bootstrapCI } from './bootstrap.ts';
import { type Labels, type Scores, sensitivity, specificity } from './metrics.ts';

/**
 * Operating points a clinic can use: a threshold chosen on the validation split so that its
 * specificity (or sensitivity) reaches a level, and what that threshold gives on the test split.
 * A score >= threshold is called positive, as everywhere in metrics.ts.
 */

/** The levels reported: sensitivity at 90 % and 95 % specificity, and specificity at 90 % and 95 % sensitivity. */
export const OPERATING_LEVELS = [0.9, 0.95] as const;

const Rate = z.number().min(0).max(1);
export const OperatingPoint = z.object({
  /** which rate the threshold was chosen to reach on val: 'specificity' -> the row reports sensitivity at it */
  fixed: z.enum(['specificity', 'sensitivity']),
  level: Rate,
  /** chosen on the val split */
  threshold: z.number(),
  /** on the test split at that threshold, with 95 % bootstrap CIs (stratified by class) */
  sensitivity: Rate,
  specificity: Rate,
  ci: z.object({ sensitivity: z.tuple([Rate, Rate]), specificity: z.tuple([Rate, Rate]) }),
});
export type OperatingPoint = z.infer<typeof OperatingPoint>;

/** The scores of one class, ascending. */
function classScores(labels: Labels, scores: Scores, cls: 0 | 1): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === cls) out.push(scores[i]);
  return Float64Array.from(out).sort();
}

/** The least count of `n` whose share reaches `level` (0.9 x 10 is 9.000000000000002 in floating point). */
const needed = (level: number, n: number) => Math.max(1, Math.ceil(level * n - 1e-9));

/** Halfway between `at` and the nearest val score on the side the threshold moves to (scores are in [0, 1]). */
function between(all: Float64Array, at: number, up: boolean): number {
  let next = up ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const s of all) if (up ? s > at && s < next : s < at && s > next) next = s;
  if (!Number.isFinite(next)) return up ? at + 1e-6 : at;
  return (at + next) / 2;
}

/**
 * The lowest threshold (the highest sensitivity) at which at least `level` of the negatives score
 * below it: halfway between the needed negative's score and the next higher score.
 */
export function thresholdForSpecificity(labels: Labels, scores: Scores, level: number): number {
  const neg = classScores(labels, scores, 0);
  if (neg.length === 0) throw new Error('thresholdForSpecificity: the split has no negative images');
  const q = neg[needed(level, neg.length) - 1];
  return between(Float64Array.from(scores), q, true);
}

/**
 * The highest threshold (the highest specificity) at which at least `level` of the positives score
 * at or above it: halfway between the needed positive's score and the next lower score.
 */
export function thresholdForSensitivity(labels: Labels, scores: Scores, level: number): number {
  const pos = classScores(labels, scores, 1);
  if (pos.length === 0) throw new Error('thresholdForSensitivity: the split has no positive images');
  const q = pos[pos.length - needed(level, pos.length)];
  return between(Float64Array.from(scores), q, false);
}

/**
 * Thresholds chosen on `val` for each fixed rate and level, scored on `test`. Undefined when either
 * split lacks a class (no threshold can be chosen or checked).
 */
export function operatingPoints(
  val: { labels: Labels; scores: Scores },
  test: { labels: Labels; scores: Scores },
  bootstrap: { n?: number; seed: number },
): OperatingPoint[] | undefined {
  const both = (l: Labels) => {
    let p = 0;
    for (let i = 0; i < l.length; i++) p += l[i] === 1 ? 1 : 0;
    return p > 0 && p < l.length;
  };
  if (!both(val.labels) || !both(test.labels)) return undefined;
  const points: OperatingPoint[] = [];
  for (const fixed of ['specificity', 'sensitivity'] as const) {
    for (const level of OPERATING_LEVELS) {
      const threshold = fixed === 'specificity' ? thresholdForSpecificity(val.labels, val.scores, level) : thresholdForSensitivity(val.labels, val.scores, level);
      const at = (f: typeof sensitivity) => (l: Labels, s: Scores) => f(l, s, threshold);
      points.push({
        fixed,
        level,
        threshold,
        sensitivity: sensitivity(test.labels, test.scores, threshold),
        specificity: specificity(test.labels, test.scores, threshold),
        ci: {
          sensitivity: bootstrapCI(at(sensitivity), test.labels, test.scores, bootstrap),
          specificity: bootstrapCI(at(specificity), test.labels, test.scores, bootstrap),
        },
      });
    }
  }
  return points;
}
