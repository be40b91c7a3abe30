import { describe, expect, it } from 'vitest';
import { labelEfficiency, pairRows } from './compare.ts';
import type { ResultRow } from './evaluate.ts';
import { accuracy, auc } from './metrics.ts';
import { meanSd, pairedBootstrap } from './paired.ts';

describe('pairedBootstrap (hand-computed cases)', () => {
  // 2 abnormal (images 0, 1), 2 normal (images 2, 3); A is right on all four, B wrong on image 0 only
  const labels = [1, 1, 0, 0];
  const a = [0.9, 0.8, 0.1, 0.2];
  const b = [0.4, 0.8, 0.1, 0.2];

  it('the accuracy difference is 1/4; its resamples are k/4 with k ~ Binomial(2, 1/2), so the 95% CI is [0, 1/2]', () => {
    // resampling keeps 2 abnormal + 2 normal images; the difference is (times image 0 is drawn) / 4
    const e = pairedBootstrap(accuracy, labels, [a], [b], { n: 4000, seed: 1 });
    expect(e.estimate).toBe(0.25);
    expect(e.ci).toEqual([0, 0.5]);
  });

  it('pairs the test images: two encoders that rank alike have a zero-width AUC interval', () => {
    // B = A shifted down by 0.05: the same ranking, so every joint resample has AUC difference exactly 0
    // (an unpaired bootstrap would resample the two independently and give a wide interval)
    const shifted = a.map((s) => s - 0.05);
    expect(pairedBootstrap(auc, labels, [a], [shifted], { n: 500, seed: 2 })).toEqual({ estimate: 0, ci: [0, 0] });
  });

  it('a flipped encoder: AUC 1 vs AUC 0 is a difference of exactly 1 in every resample', () => {
    const flipped = a.map((s) => 1 - s);
    expect(pairedBootstrap(auc, labels, [a], [flipped], { n: 200, seed: 3 })).toEqual({ estimate: 1, ci: [1, 1] });
  });

  it('averages over seeds before differencing, and without b gives the seed-averaged metric', () => {
    // seed 0: A 4/4, B 3/4; seed 1: A 3/4 (wrong on image 3), B 4/4
    const a1 = [0.9, 0.8, 0.1, 0.7];
    const b1 = [0.9, 0.8, 0.1, 0.2];
    expect(pairedBootstrap(accuracy, labels, [a, a1], [b, b1], { n: 50, seed: 0 }).estimate).toBe(0);
    expect(pairedBootstrap(accuracy, labels, [a, a1], undefined, { n: 50, seed: 0 }).estimate).toBe(0.875);
  });

  it('rejects score vectors of other test images', () => {
    expect(() => pairedBootstrap(accuracy, labels, [a], [[0.1, 0.2]], { seed: 0 })).toThrow(/same test images/);
  });

  it('meanSd is the sample standard deviation', () => {
    expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) });
    expect(meanSd([7])).toEqual({ mean: 7, sd: 0 });
  });
});

describe('pairRows and labelEfficiency', () => {
  const row = (label: string, seed: number, scores: number[], more: Partial<ResultRow> = {}): ResultRow => ({
    label,
    method: label,
    size: 64,
    protocol: 'linear',
    fraction: 0.1,
    seed,
    accuracy: accuracy([1, 1, 0, 0], scores),
    auc: auc([1, 1, 0, 0], scores),
    balanced_accuracy: 0,
    sensitivity: 0,
    specificity: 0,
    majority_accuracy: 0.5,
    n_test: 4,
    n_train: 10,
    ci: { accuracy: [0, 1], auc: [0, 1] },
    roc: [],
    scores,
    test_labels: '1100',
    ...more,
  });
  const rows = [
    row('rotation', 0, [0.9, 0.8, 0.1, 0.2]),
    row('random', 0, [0.4, 0.8, 0.1, 0.2]),
    row('rotation', 1, [0.9, 0.8, 0.1, 0.7]),
    row('random', 1, [0.9, 0.8, 0.1, 0.2]),
  ];

  it('pairs each row with the reference of the same seed (and leaves out references that are absent)', () => {
    const paired = pairRows(rows, { n: 4000, seed: 1 });
    expect(paired[0].paired?.random.accuracy).toEqual({ diff: 0.25, ci: [0, 0.5] });
    expect(paired[2].paired?.random.accuracy.diff).toBe(-0.25);
    expect(paired[1].paired).toBeUndefined();
    expect(paired[0].paired?.imagenet).toBeUndefined();
  });

  it('summarises seeds: mean, sd across seeds, and the seed-averaged paired difference', () => {
    const cells = labelEfficiency(rows, { n: 200 });
    const rot = cells.find((c) => c.label === 'rotation')!;
    expect(rot.seeds).toEqual([0, 1]);
    expect(rot.accuracy.mean).toBe(0.875);
    expect(rot.accuracy.sd).toBeCloseTo(Math.SQRT1_2 * 0.25, 12);
    expect(rot.vs.random.accuracy.mean).toBe(0);
    expect(rot.vs.random.accuracy.sd).toBeCloseTo(Math.SQRT2 * 0.25, 12);
  });

  it('pairs each method with the best other method of its cell (the highest seed-mean AUC, references aside)', () => {
    const more = [...rows, row('simclr', 0, [0.6, 0.9, 0.7, 0.1]), row('simclr', 1, [0.6, 0.9, 0.7, 0.1]), row('jigsaw', 0, [0.5, 0.5, 0.5, 0.5]), row('jigsaw', 1, [0.5, 0.5, 0.5, 0.5])];
    const cells = labelEfficiency(more, { n: 200 });
    const by = (init: string) => cells.find((c) => c.label === init)!;
    // seed-mean AUC: rotation 1 (both seeds rank the positives first), simclr 0.75 (0.6 < 0.7), jigsaw 0.5
    expect(by('simclr').best?.label).toBe('rotation');
    expect(by('simclr').best?.auc.mean).toBeCloseTo(0.75 - 1, 12);
    expect(by('rotation').best?.label).toBe('simclr'); // its best other method
    expect(by('jigsaw').best?.label).toBe('rotation');
    expect(by('random').best).toBeUndefined(); // references are compared with nothing
  });

  it('compares a variant with the encoder it names as its base (ΔD), seeds paired', () => {
    const variant = (seed: number, scores: number[]) => row('rotation+mask', seed, scores, { method: 'rotation', base: 'rotation' });
    const more = [...rows, variant(0, [0.6, 0.9, 0.7, 0.1]), variant(1, [0.6, 0.9, 0.1, 0.7])];
    const cells = labelEfficiency(more, { n: 200 });
    const mask = cells.find((c) => c.label === 'rotation+mask')!;
    // AUC: the variant 0.75 in both seeds (3 of 4 positive-negative pairs in order), rotation 1 in both
    expect(mask.base?.label).toBe('rotation');
    expect(mask.base?.auc.mean).toBeCloseTo(0.75 - 1, 12);
    expect(cells.find((c) => c.label === 'rotation')!.base).toBeUndefined();
  });

  it('two encoders of one method are two cells, each of its own seeds, each paired with the reference', () => {
    const a = (seed: number, scores: number[]) => row('dino-a', seed, scores, { method: 'dino' });
    const b = (seed: number, scores: number[]) => row('dino-b', seed, scores, { method: 'dino' });
    const two = [...rows.filter((r) => r.label === 'random'), a(0, [0.9, 0.8, 0.1, 0.2]), a(1, [0.9, 0.8, 0.1, 0.2]), b(0, [0.4, 0.8, 0.1, 0.2]), b(1, [0.4, 0.8, 0.1, 0.7])];
    const cells = labelEfficiency(two, { n: 200 });
    expect(cells.map((c) => c.label).sort()).toEqual(['dino-a', 'dino-b', 'random']);
    const cellA = cells.find((c) => c.label === 'dino-a')!;
    const cellB = cells.find((c) => c.label === 'dino-b')!;
    expect([cellA.method, cellB.method]).toEqual(['dino', 'dino']);
    expect(cellA.accuracy.mean).toBe(1); // not blended with dino-b's 0.75 and 0.5
    expect(cellB.accuracy.mean).toBe(0.625);
    expect(cellA.best?.label).toBe('dino-b');
    expect(cellA.vs.random.accuracy.mean).toBeCloseTo(1 - 0.875, 12);
    const paired = pairRows(two, { n: 200 });
    expect(paired.filter((r) => r.paired?.random).map((r) => r.label)).toEqual(['dino-a', 'dino-a', 'dino-b', 'dino-b']);
  });
});
