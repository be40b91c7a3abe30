import { beforeAll, describe, expect, it } from 'vitest';
import { type LinearHead, LinearOptions, predictProba, trainLinearHead } from './linear.ts';
import { accuracy, auc, majorityAccuracy } from './metrics.ts';
import { createRng, shuffleInPlace } from '@cxr-ssl/data';
import { type FixtureImages, loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { thumbnailSplit } from './testing/thumbnails.ts';

let fx: FixtureImages;
beforeAll(async () => {
  fx = await loadFixture(32);
});

describe('trainLinearHead on real fixture X-rays (8x8 thumbnails as features, held-out test split)', () => {
  it('is exactly deterministic per seed, and the seed matters', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const a = trainLinearHead({ dim: 64, train, val: test, test, options: { seed: 5, epochs: 3 } });
    const b = trainLinearHead({ dim: 64, train, val: test, test, options: { seed: 5, epochs: 3 } });
    const c = trainLinearHead({ dim: 64, train, val: test, test, options: { seed: 6, epochs: 3 } });
    expect(Array.from(b.testProbs!)).toEqual(Array.from(a.testProbs!));
    expect(b.history).toEqual(a.history);
    expect(Array.from(c.testProbs!)).not.toEqual(Array.from(a.testProbs!));
    expect(a.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(a.history[0].valAccuracy).toBeTypeOf('number');
  });

  it('beats the majority baseline on NORMAL vs PNEUMONIA', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const r = trainLinearHead({ dim: 64, train, test, options: { seed: 0, epochs: 30 } });
    expect(majorityAccuracy(test.labels)).toBe(0.5);
    expect(accuracy(test.labels, r.testProbs!)).toBeGreaterThanOrEqual(0.7);
    expect(auc(test.labels, r.testProbs!)).toBeGreaterThanOrEqual(0.8);
    expect(r.history.at(-1)!.trainLoss).toBeLessThan(r.history[0].trainLoss / 2);
  });

  it('learns an exactly known label (mirrored or not) on unseen images', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'mirror');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'mirror');
    const r = trainLinearHead({ dim: 64, train, test, options: { seed: 1, epochs: 20 } });
    expect(accuracy(test.labels, r.testProbs!)).toBeGreaterThanOrEqual(0.9);
  });

  it('negative control: labels shuffled in training carry nothing to the test split', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'mirror');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'mirror');
    const shuffled = Int32Array.from(train.labels as Int32Array);
    shuffleInPlace(shuffled, createRng(9));
    const r = trainLinearHead({ dim: 64, train: { ...train, labels: shuffled }, test, options: { seed: 1, epochs: 20 } });
    expect(accuracy(test.labels, r.testProbs!)).toBeLessThan(0.75);
  });

  it('held-out probabilities are the returned head run through an independent forward pass, and training lowered the held-out loss', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    // reference forward, written out plainly: standardise -> fc1 + ReLU -> fc2 -> softmax
    const reference = (h: LinearHead, x: Float32Array, r: number): number => {
      const z = Array.from({ length: h.dim }, (_, j) => (x[r * h.dim + j] - h.mean[j]) * h.invStd[j]);
      const a = Array.from({ length: h.hidden }, (_, k) => Math.max(0, h.b1[k] + z.reduce((s, v, j) => s + v * h.w1[k * h.dim + j], 0)));
      const logit = (c: number) => h.b2[c] + a.reduce((s, v, k) => s + v * h.w2[c * h.hidden + k], 0);
      return 1 / (1 + Math.exp(logit(0) - logit(1)));
    };
    const heldOutLoss = (h: LinearHead) =>
      Array.from(test.labels).reduce((s, y, r) => {
        const p = reference(h, test.features, r);
        return s - Math.log(y === 1 ? p : 1 - p);
      }, 0) / test.labels.length;
    const trained = trainLinearHead({ dim: 64, train, test, options: { seed: 2, epochs: 20 } });
    // same seed, same initial weights, a step too small to move them: the untrained head
    const untrained = trainLinearHead({ dim: 64, train, options: { seed: 2, epochs: 1, lr: 1e-12 } });
    for (let r = 0; r < test.labels.length; r++) expect(trained.testProbs![r]).toBeCloseTo(reference(trained.head, test.features, r), 5);
    expect(Array.from(predictProba(trained.head, test, 7))).toEqual(Array.from(trained.testProbs!));
    expect(heldOutLoss(trained.head)).toBeLessThan(0.8 * heldOutLoss(untrained.head));
    expect(auc(test.labels, trained.testProbs!)).toBeGreaterThan(0.8);
  });
});

describe('trainLinearHead input checks', () => {
  const train = { features: new Float32Array(6), labels: [0, 1, 0] };
  it('rejects unknown or invalid options', () => {
    expect(() => LinearOptions.parse({ epochs: 0 })).toThrow();
    expect(() => LinearOptions.parse({ epoch: 3 })).toThrow();
    expect(LinearOptions.parse({})).toMatchObject({ hidden: 256, epochs: 10, batchSize: 64, lr: 1e-3 });
  });
  it('names the split whose shapes disagree', () => {
    expect(() => trainLinearHead({ dim: 3, train })).toThrow(/train split: 6 feature values for 3 labels x dim 3/);
    expect(() => trainLinearHead({ dim: 2, train, test: { features: new Float32Array(2), labels: [2] } })).toThrow(
      /test split: label 2 at row 0/,
    );
  });
  it('refuses non-finite features', () => {
    const bad = { features: Float32Array.from([0, 0, Number.NaN, 0, 0, 0]), labels: [0, 1, 0] };
    expect(() => trainLinearHead({ dim: 2, train: bad })).toThrow(/non-finite feature at row 1/);
  });
});
