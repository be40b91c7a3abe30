import { describe, expect, it } from 'vitest';
import { knnScores, knnVotes } from './knn.ts';
import { PROTOCOLS } from './protocols/index.ts';
import { frozenRun } from './testing/frozen-run.ts';
import { accuracy, auc, majorityAccuracy } from './metrics.ts';
import { loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { thumbnailSplit } from './testing/thumbnails.ts';

describe('knnScores', () => {
  it('votes among the k most cosine-similar train rows (hand-checked)', () => {
    // train directions: 0 deg (normal), 10 deg (abnormal), 90 deg (abnormal), 180 deg (normal); lengths differ
    const deg = (d: number, len: number) => [len * Math.cos((d * Math.PI) / 180), len * Math.sin((d * Math.PI) / 180)];
    const train = { features: Float32Array.from([...deg(0, 1), ...deg(10, 5), ...deg(90, 2), ...deg(180, 1)]), labels: [0, 1, 1, 0] };
    // test at 3 deg: nearest 0 then 10 -> k=1: 0; k=2 and T huge: 0.5; k=3 adds 90 -> 2/3
    const test = { features: Float32Array.from(deg(3, 7)), labels: [1] };
    const flat = { standardise: false, temperature: 1e9 };
    expect(Array.from(knnScores(2, train, test, { k: 1, ...flat }))).toEqual([0]);
    expect(knnScores(2, train, test, { k: 2, ...flat })[0]).toBeCloseTo(0.5, 6);
    expect(knnScores(2, train, test, { k: 3, ...flat })[0]).toBeCloseTo(2 / 3, 6);
    // k larger than the train split uses all of it
    expect(knnScores(2, train, test, { k: 50, ...flat })[0]).toBeCloseTo(0.5, 6);
    // temperature-weighted votes, by hand: cos 3 deg (normal) vs cos 7 deg (abnormal), T = 0.07
    const c = (d: number) => Math.cos((d * Math.PI) / 180);
    const w0 = Math.exp(c(3) / 0.07);
    const w1 = Math.exp(c(7) / 0.07);
    expect(knnScores(2, train, test, { k: 2, standardise: false })[0]).toBeCloseTo(w1 / (w0 + w1), 6);
  });

  it('matches a brute-force reference (full sort, exp(sim/T) votes) on real X-ray thumbnails', async () => {
    const fx = await loadFixture(32);
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const dim = 64;
    const unit = (f: Float32Array, r: number) => {
      const v = Array.from(f.subarray(r * dim, (r + 1) * dim));
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    for (const [k, temperature] of [
      [20, 0.07],
      [5, 0.5],
    ]) {
      const ours = knnScores(dim, train, test, { k, temperature, standardise: false });
      for (let t = 0; t < test.labels.length; t++) {
        const q = unit(test.features, t);
        const sims = Array.from({ length: train.labels.length }, (_, r) => ({ r, s: unit(train.features, r).reduce((a, x, j) => a + x * q[j], 0) }));
        sims.sort((a, b) => b.s - a.s || a.r - b.r);
        const top = sims.slice(0, k);
        const w = top.map((x) => Math.exp(x.s / temperature));
        const expected = top.reduce((a, x, i) => a + (train.labels[x.r] === 1 ? w[i] : 0), 0) / w.reduce((a, x) => a + x, 0);
        expect(ours[t]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('ranks held-out real X-rays better than chance (NORMAL vs PNEUMONIA, thumbnails)', async () => {
    const fx = await loadFixture(32);
    const train = thumbnailSplit(fx, splitIndices(fx, 'train'), 'diagnosis');
    const test = thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis');
    const scores = knnScores(64, train, test, { k: 5 });
    expect(auc(test.labels, scores)).toBeGreaterThan(0.7);
    expect(accuracy(test.labels, scores)).toBeGreaterThan(majorityAccuracy(test.labels));
    // the protocol: the same scores, with its defaults filled from its schema
    const options = PROTOCOLS.knn.options.parse({ k: 5 });
    expect(options).toEqual({ k: 5, temperature: 0.07, standardise: true });
    expect(Array.from((await PROTOCOLS.knn.run(frozenRun({ dim: 64, train, test }, options))).probs)).toEqual(Array.from(scores));
  });

  it('votes per class (softmax targets) and per output (several per image) as a brute-force reference does', async () => {
    const fx = await loadFixture(32);
    const rows = splitIndices(fx, 'train');
    const train = thumbnailSplit(fx, rows.filter((_, i) => i % 3 !== 0), 'diagnosis');
    const test = thumbnailSplit(fx, rows.filter((_, i) => i % 3 === 0), 'diagnosis');
    const cause = (r: number) => (fx.files[r].includes('_virus_') ? 2 : fx.files[r].includes('_bacteria_') ? 1 : 0);
    const trainRows = rows.filter((_, i) => i % 3 !== 0);
    const classes = Int32Array.from(trainRows, cause);
    // findings: [pneumonia, virus]
    const findings = Int32Array.from(trainRows.flatMap((r) => [cause(r) > 0 ? 1 : 0, cause(r) === 2 ? 1 : 0]));
    const dim = 64;
    const o = { k: 7, temperature: 0.1, standardise: false };
    const perClass = knnVotes(dim, { ...train, labels: classes }, { ...test, labels: new Int32Array(test.labels.length) }, o, { kind: 'softmax', classes: 3 });
    const perOutput = knnVotes(dim, { ...train, labels: findings }, { ...test, labels: new Int32Array(2 * test.labels.length) }, o, { kind: 'sigmoid', outputs: 2 });
    const unit = (f: Float32Array, r: number) => {
      const v = Array.from(f.subarray(r * dim, (r + 1) * dim));
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    for (let t = 0; t < test.labels.length; t++) {
      const q = unit(test.features, t);
      const top = Array.from({ length: classes.length }, (_, r) => ({ r, s: unit(train.features, r).reduce((a, x, j) => a + x * q[j], 0) }))
        .sort((a, b) => b.s - a.s || a.r - b.r)
        .slice(0, o.k);
      const w = top.map((x) => Math.exp(x.s / o.temperature));
      const all = w.reduce((a, x) => a + x, 0);
      for (let c = 0; c < 3; c++) expect(perClass[t * 3 + c]).toBeCloseTo(top.reduce((a, x, i) => a + (classes[x.r] === c ? w[i] : 0), 0) / all, 5);
      for (let k = 0; k < 2; k++) expect(perOutput[t * 2 + k]).toBeCloseTo(top.reduce((a, x, i) => a + (findings[x.r * 2 + k] === 1 ? w[i] : 0), 0) / all, 5);
    }
  });

  it('rejects mismatched shapes', () => {
    expect(() => knnScores(2, { features: new Float32Array(3), labels: [0, 1] }, { features: new Float32Array(2), labels: [0] })).toThrow(
      /do not match labels x dim 2/,
    );
  });
});
