import { beforeAll, describe, expect, it } from 'vitest';
import { LinearOptions, predictProba, trainLinearHead } from './linear.ts';
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

  it('predictProba reproduces the test probabilities from the returned head', () => {
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const r = trainLinearHead({ dim: 64, train, test, options: { seed: 2, epochs: 2 } });
    expect(Array.from(predictProba(r.head, test, 7))).toEqual(Array.from(r.testProbs!));
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
