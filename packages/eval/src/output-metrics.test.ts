import { createRng } from '@cxr-ssl/data';
import { describe, expect, it } from 'vitest';
import { labelAccuracy, macroAuc, microAuc, outputStrata, top1Accuracy } from './output-metrics.ts';
import { pairedBootstrap } from './paired.ts';

/** AUC by its definition, counted over every (positive, negative) pair: the independent reference. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let sum = 0;
  let pairs = 0;
  labels.forEach((y, i) => {
    if (y !== 1) return;
    labels.forEach((z, j) => {
      if (z !== 0) return;
      pairs++;
      sum += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return sum / pairs;
}

const W = 3;
function rows(n: number, seed: number) {
  const rng = createRng(seed);
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < W; k++) {
      const y = rng.next() < 0.2 + 0.2 * k ? 1 : 0;
      labels.push(y);
      scores.push(Math.round((0.3 * y + 0.7 * rng.next()) * 10) / 10);
    }
  }
  return { labels, scores };
}
const col = (xs: number[], k: number) => xs.filter((_, i) => i % W === k);

describe('metrics of several outputs per image', () => {
  it('macro AUC is the mean of the outputs\' pairwise AUCs; micro AUC pools every (image, output)', () => {
    const { labels, scores } = rows(60, 1);
    const per = [0, 1, 2].map((k) => pairwiseAuc(col(labels, k), col(scores, k)));
    expect(macroAuc(W)(labels, scores)).toBeCloseTo(per.reduce((s, x) => s + x, 0) / W, 12);
    expect(microAuc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
    // an output without a positive is left out of the mean
    const none = labels.map((y, i) => (i % W === 0 ? 0 : y));
    expect(macroAuc(W)(none, scores)).toBeCloseTo((per[1] + per[2]) / 2, 12);
  });

  it('top-1 accuracy (one class per image) and per-label accuracy at 0.5 (several), by hand', () => {
    // image 0: class 2, scores argmax 2; image 1: class 0, argmax 1
    expect(top1Accuracy(3)([0, 0, 1, 1, 0, 0], [0.1, 0.2, 0.7, 0.3, 0.6, 0.1])).toBe(0.5);
    expect(labelAccuracy([1, 0, 0, 1], [0.7, 0.4, 0.6, 0.5])).toBe(0.75);
  });

  it('a bootstrap by image with strata keeps each stratum\'s size in every resample', () => {
    const { labels, scores } = rows(40, 2);
    const strata = outputStrata(labels, W, false);
    const rarestCount = (l: ArrayLike<number>) => {
      let c = 0;
      for (let i = 0; i < l.length / W; i++) c += outputStrata(Array.from({ length: W }, (_, k) => l[i * W + k]), W, false)[0] === 0 ? 1 : 0;
      return c;
    };
    // images whose rarest output is output 0: the same count in every resample, so the interval is a point
    const e = pairedBootstrap(rarestCount, labels, [scores], undefined, { n: 50, seed: 0, width: W, strata });
    expect(e.ci).toEqual([e.estimate, e.estimate]);
    expect(() => pairedBootstrap(rarestCount, labels.slice(1), [scores.slice(1)], undefined, { n: 5, seed: 0, width: W })).toThrow(/not whole images of width 3/);
  });
});
