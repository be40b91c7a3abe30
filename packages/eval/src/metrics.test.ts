import { describe, expect, it } from 'vitest';
import { bootstrapCI } from './bootstrap.ts';
import {
  accuracy,
  auc,
  balancedAccuracy,
  confusion,
  majorityAccuracy,
  rocCurve,
  sensitivity,
  specificity,
  thinRoc,
} from './metrics.ts';
import { createRng } from '@cxr-ssl/data';

/** Independent reference: AUC as the fraction of (positive, negative) pairs ordered right, ties 1/2. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let num = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      num += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return num / pairs;
}

function trapezoid(points: [number, number][]): number {
  let a = 0;
  for (let i = 1; i < points.length; i++) {
    a += ((points[i][0] - points[i - 1][0]) * (points[i][1] + points[i - 1][1])) / 2;
  }
  return a;
}

describe('threshold metrics', () => {
  // preds at 0.5: [0, 1, 1, 0, 1] -> tn 1, fp 1, tp 2, fn 1 (0.5 itself counts as positive)
  const labels = [0, 0, 1, 1, 1];
  const scores = [0.2, 0.6, 0.7, 0.4, 0.5];

  it('counts the confusion matrix by hand', () => {
    expect(confusion(labels, scores)).toEqual({ tp: 2, tn: 1, fp: 1, fn: 1 });
  });
  it('derives accuracy, sensitivity, specificity, balanced accuracy', () => {
    expect(accuracy(labels, scores)).toBeCloseTo(3 / 5, 12);
    expect(sensitivity(labels, scores)).toBeCloseTo(2 / 3, 12);
    expect(specificity(labels, scores)).toBeCloseTo(1 / 2, 12);
    expect(balancedAccuracy(labels, scores)).toBeCloseTo(7 / 12, 12);
  });
  it('honours a custom threshold', () => {
    // at 0.3 preds are [0, 1, 1, 1, 1]: only row 1 is wrong
    expect(accuracy(labels, scores, 0.3)).toBeCloseTo(4 / 5, 12);
  });
  it('majority accuracy is the larger class share', () => {
    expect(majorityAccuracy(labels)).toBeCloseTo(3 / 5, 12);
    expect(majorityAccuracy([0, 0, 0, 1])).toBeCloseTo(3 / 4, 12);
  });
  it('throws on one-class splits where a rate is undefined', () => {
    expect(() => sensitivity([0, 0], [0.1, 0.9])).toThrow(/no positive/);
    expect(() => specificity([1, 1], [0.1, 0.9])).toThrow(/no negative/);
  });
  it('throws on bad input naming the row', () => {
    expect(() => accuracy([0, 2], [0.1, 0.2])).toThrow(/label 2 at row 1/);
    expect(() => accuracy([0, 1], [0.1])).toThrow(/2 labels but 1 scores/);
    expect(() => accuracy([], [])).toThrow(/empty/);
  });
});

describe('auc', () => {
  it('matches the textbook example', () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });
  it('counts a positive-negative tie as one half', () => {
    // pairs: (0.5 vs 0.5) 1/2, (0.5 vs 0.2) 1, (0.9 vs 0.5) 1, (0.9 vs 0.2) 1 -> 3.5 / 4
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(auc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])).toBeCloseTo(0.5, 12);
  });
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(auc([0, 0, 1], [0.1, 0.2, 0.3])).toBe(1);
    expect(auc([0, 0, 1], [0.5, 0.4, 0.3])).toBe(0);
  });
  it('agrees with the pairwise count on random data with many ties', () => {
    const rng = createRng(7);
    const labels = Array.from({ length: 300 }, () => rng.int(2));
    const scores = labels.map((y) => Math.round((rng.next() + 0.3 * y) * 10) / 10);
    expect(auc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
  });
  it('throws on an all-one-class split', () => {
    expect(() => auc([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(/only one class \(3 positive, 0 negative\)/);
    expect(() => auc([0, 0], [0.1, 0.2])).toThrow(/only one class/);
  });
});

describe('rocCurve', () => {
  it('groups tied scores into one step', () => {
    expect(rocCurve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
  });
  it('has a trapezoid area equal to the rank AUC', () => {
    const rng = createRng(3);
    const labels = Array.from({ length: 200 }, () => rng.int(2));
    const scores = labels.map((y) => Math.round((rng.next() + 0.5 * y) * 20) / 20);
    expect(trapezoid(rocCurve(labels, scores))).toBeCloseTo(auc(labels, scores), 12);
  });
  it('thins long curves keeping both ends', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => [i / 999, i / 999] as [number, number]);
    const thin = thinRoc(pts, 11);
    expect(thin).toHaveLength(11);
    expect(thin[0]).toEqual([0, 0]);
    expect(thin[10]).toEqual([1, 1]);
  });
});

describe('bootstrapCI', () => {
  const rng = createRng(11);
  const labels = Array.from({ length: 120 }, () => rng.int(2));
  const scores = labels.map((y) => Math.min(1, Math.max(0, rng.next() * 0.8 + 0.25 * y)));

  it('contains the point estimate and is deterministic per seed', () => {
    const point = auc(labels, scores);
    const ci = bootstrapCI(auc, labels, scores, { n: 500, seed: 1 });
    expect(ci[0]).toBeLessThan(point);
    expect(ci[1]).toBeGreaterThan(point);
    expect(bootstrapCI(auc, labels, scores, { n: 500, seed: 1 })).toEqual(ci);
    expect(bootstrapCI(auc, labels, scores, { n: 500, seed: 2 })).not.toEqual(ci);
  });
  it('narrows with more data', () => {
    const wide = bootstrapCI(accuracy, labels.slice(0, 30), scores.slice(0, 30), { n: 400, seed: 1 });
    const narrow = bootstrapCI(accuracy, labels, scores, { n: 400, seed: 1 });
    expect(narrow[1] - narrow[0]).toBeLessThan(wide[1] - wide[0]);
  });
  it('keeps both classes in every resample (stratified), so AUC never throws', () => {
    // 1 positive among 20: an unstratified resample would often miss it
    const l = Array.from({ length: 20 }, (_, i) => (i === 0 ? 1 : 0));
    const s = l.map((_, i) => i / 20);
    expect(() => bootstrapCI(auc, l, s, { n: 200, seed: 3 })).not.toThrow();
  });
});
