import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearEvaluation, readResultsFile, ResultRow, writeResultsFile } from './evaluate.ts';
import { trainLinearHead } from './linear.ts';
import { accuracy, auc } from './metrics.ts';
import { type FixtureImages, loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { thumbnailSplit } from './testing/thumbnails.ts';

let fx: FixtureImages;
beforeAll(async () => {
  fx = await loadFixture(32);
});

function splits() {
  const trainIdx = splitIndices(fx, 'train');
  // hold 16 of the 64 train images out as val (every 4th)
  return {
    train: thumbnailSplit(fx, trainIdx.filter((_, k) => k % 4 !== 0), 'diagnosis'),
    val: thumbnailSplit(fx, trainIdx.filter((_, k) => k % 4 === 0), 'diagnosis'),
    test: thumbnailSplit(fx, splitIndices(fx, 'test'), 'diagnosis'),
  };
}

describe('linearEvaluation on real fixture X-rays', () => {
  it('returns a valid row whose metrics match the head it trained', () => {
    const features = splits();
    const options = { seed: 3, epochs: 15 };
    const row = linearEvaluation({ features, dim: 64, init: 'thumbnail', size: 32, options, bootstrap: 300 });
    expect(ResultRow.parse(row)).toEqual(row);
    const probs = trainLinearHead({ dim: 64, ...features, options }).testProbs!;
    expect(row.accuracy).toBe(accuracy(features.test.labels, probs));
    expect(row.auc).toBe(auc(features.test.labels, probs));
    expect(row).toMatchObject({ init: 'thumbnail', size: 32, n_test: 32, n_train: 48, majority_accuracy: 0.5 });
    expect(row.balanced_accuracy).toBeCloseTo((row.sensitivity + row.specificity) / 2, 12);
    expect(row.ci.auc[0]).toBeLessThanOrEqual(row.auc);
    expect(row.ci.auc[1]).toBeGreaterThanOrEqual(row.auc);
    expect(row.roc[0]).toEqual([0, 0]);
    expect(row.roc.at(-1)).toEqual([1, 1]);
    expect(row.history).toHaveLength(15);
    expect(row.history![0].valAccuracy).toBeTypeOf('number');
    expect(linearEvaluation({ features, dim: 64, init: 'thumbnail', size: 32, options, bootstrap: 300 })).toEqual(row);
  });
});

describe('results file', () => {
  const row: ResultRow = {
    init: 'random',
    size: 128,
    accuracy: 0.6,
    auc: 0.65,
    balanced_accuracy: 0.58,
    sensitivity: 0.7,
    specificity: 0.46,
    majority_accuracy: 0.57,
    n_test: 100,
    ci: { accuracy: [0.5, 0.7], auc: [0.55, 0.75] },
    roc: [
      [0, 0],
      [1, 1],
    ],
  };
  it('round-trips through an atomic write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-results-'));
    const path = join(dir, 'results.json');
    const file = writeResultsFile(path, [row], '2024-01-01T00:00:00.000Z');
    expect(readResultsFile(path)).toEqual(file);
    expect(file.rows[0]).toEqual(row);
  });
  it('rejects rates outside [0, 1] and names the file on bad content', () => {
    expect(() => ResultRow.parse({ ...row, accuracy: 60 })).toThrow();
    const dir = mkdtempSync(join(tmpdir(), 'eval-results-'));
    const path = join(dir, 'results.json');
    writeFileSync(path, JSON.stringify({ version: 1, created: 'x', rows: [{ ...row, n_test: -1 }] }));
    expect(() => readResultsFile(path)).toThrow(new RegExp(`${path}: not a valid results file`));
    writeFileSync(path, '{');
    expect(() => readResultsFile(path)).toThrow(/cannot read results JSON/);
    expect(readFileSync(path, 'utf8')).toBe('{');
  });
});
