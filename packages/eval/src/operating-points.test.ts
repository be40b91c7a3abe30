import { createRng } from '@cxr-ssl/data';
import { describe, expect, it } from 'vitest';
import { sensitivity, specificity } from './metrics.ts';
import { operatingPoints, thresholdForSensitivity, thresholdForSpecificity } from './operating-points.ts';

/** Scores with some signal: positives drawn higher, ties included (rounded to 0.05). */
function split(n: number, seed: number) {
  const rng = createRng(seed);
  const labels = Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
  const scores = labels.map((y) => Math.round(Math.min(1, Math.max(0, 0.35 + 0.3 * y + 0.25 * (rng.next() - 0.5) * 2)) * 20) / 20);
  return { labels, scores };
}

/** The reference, by brute force: every cut between two distinct scores (and beyond them), the best one meeting the level on val. */
function bruteForce(labels: number[], scores: number[], fixed: 'specificity' | 'sensitivity', level: number): number {
  const distinct = [...new Set(scores)].sort((a, b) => a - b);
  const cuts = [distinct[0] - 1, ...distinct.slice(1).map((s, i) => (s + distinct[i]) / 2), distinct.at(-1)! + 1];
  const ok = cuts.filter((t) => (fixed === 'specificity' ? specificity(labels, scores, t) : sensitivity(labels, scores, t)) >= level);
  // the best of those: highest sensitivity (lowest cut) at fixed specificity; highest specificity (highest cut) at fixed sensitivity
  return fixed === 'specificity' ? Math.min(...ok) : Math.max(...ok);
}

describe('operating points', () => {
  it('thresholds on val classify it as the brute-force best cut does (ties and the 90 % / 95 % levels)', () => {
    for (const seed of [0, 1, 2, 3]) {
      const { labels, scores } = split(80, seed);
      for (const level of [0.9, 0.95]) {
        const t = thresholdForSpecificity(labels, scores, level);
        const ref = bruteForce(labels, scores, 'specificity', level);
        expect([sensitivity(labels, scores, t), specificity(labels, scores, t)]).toEqual([sensitivity(labels, scores, ref), specificity(labels, scores, ref)]);
        expect(specificity(labels, scores, t)).toBeGreaterThanOrEqual(level);
        const u = thresholdForSensitivity(labels, scores, level);
        const refU = bruteForce(labels, scores, 'sensitivity', level);
        expect([sensitivity(labels, scores, u), specificity(labels, scores, u)]).toEqual([sensitivity(labels, scores, refU), specificity(labels, scores, refU)]);
        expect(sensitivity(labels, scores, u)).toBeGreaterThanOrEqual(level);
      }
    }
  });

  it('by hand: 10 negatives at 0.0..0.9, 90 % specificity needs 9 below the cut, so it falls between 0.8 and 0.9', () => {
    const labels = [...Array(10).fill(0), 1, 1];
    const scores = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.85, 0.95];
    // 0.9 x 10 is 9.000000000000002 in floating point: still 9 negatives, not 10
    expect(thresholdForSpecificity(labels, scores, 0.9)).toBeCloseTo(0.825, 12);
    // both positives (100 % >= 95 %) at or above the cut: halfway below the lower one
    expect(thresholdForSensitivity(labels, scores, 0.95)).toBeCloseTo(0.825, 12);
  });

  it('reports test sensitivity and specificity at the val thresholds, with CIs around them; none without both classes', () => {
    const val = split(120, 7);
    const test = split(150, 8);
    const points = operatingPoints(val, test, { n: 200, seed: 0 })!;
    expect(points).toHaveLength(4);
    for (const p of points) {
      expect(p.sensitivity).toBe(sensitivity(test.labels, test.scores, p.threshold));
      expect(p.specificity).toBe(specificity(test.labels, test.scores, p.threshold));
      expect(p.ci.sensitivity[0]).toBeLessThanOrEqual(p.sensitivity);
      expect(p.ci.sensitivity[1]).toBeGreaterThanOrEqual(p.sensitivity);
    }
    // a higher required specificity never lowers the threshold
    expect(points[1].threshold).toBeGreaterThanOrEqual(points[0].threshold);
    expect(operatingPoints({ labels: [0, 0], scores: [0.1, 0.2] }, test, { n: 10, seed: 0 })).toBeUndefined();
  });
});
