import { describe, expect, it } from 'vitest';
import { knnEvaluation } from './evaluate.ts';
import { knnScores } from './knn.ts';
import { accuracy, auc, majorityAccuracy } from './metrics.ts';
import { loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { thumbnailSplit } from './testing/thumbnails.ts';

describe('knnScores', () => {
  it('votes among the k most cosine-similar train rows (hand-checked)', () => {
    // train directions: 0 deg (normal), 10 deg (abnormal), 90 deg (abnormal), 180 deg (normal); lengths differ
    const deg = (d: number, len: number) => [len * Math.cos((d * Math.PI) / 180), len * Math.sin((d * Math.PI) / 180)];
    const train = { features: Float32Array.from([...deg(0, 1), ...deg(10, 5), ...deg(90, 2), ...deg(180, 1)]), labels: [0, 1, 1, 0] };
    // test at 3 deg: nearest 0 then 10 -> k=1: 0; k=2: 0.5; k=3 adds 90 -> 2/3
    const test = { features: Float32Array.from(deg(3, 7)), labels: [1] };
    expect(Array.from(knnScores(2, train, test, { k: 1, standardise: false }))).toEqual([0]);
    expect(Array.from(knnScores(2, train, test, { k: 2, standardise: false }))).toEqual([0.5]);
    expect(knnScores(2, train, test, { k: 3, standardise: false })[0]).toBeCloseTo(2 / 3, 6);
    // k larger than the train split uses all of it
    expect(knnScores(2, train, test, { k: 50, standardise: false })[0]).toBeCloseTo(0.5, 6);
  });

  it('ranks held-out real X-rays better than chance (NORMAL vs PNEUMONIA, thumbnails)', async () => {
    const fx = await loadFixture(32);
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const scores = knnScores(64, train, test, { k: 5 });
    expect(auc(test.labels, scores)).toBeGreaterThan(0.7);
    expect(accuracy(test.labels, scores)).toBeGreaterThan(majorityAccuracy(test.labels));
    const row = knnEvaluation({ features: { train, test }, dim: 64, init: 'thumbnail', size: 32, options: { k: 5 }, bootstrap: 200 });
    expect(row).toMatchObject({ protocol: 'knn-5', accuracy: accuracy(test.labels, scores), n_test: 32 });
  });

  it('rejects mismatched shapes', () => {
    expect(() => knnScores(2, { features: new Float32Array(3), labels: [0, 1] }, { features: new Float32Array(2), labels: [0] })).toThrow(
      /do not match labels x dim 2/,
    );
  });
});
