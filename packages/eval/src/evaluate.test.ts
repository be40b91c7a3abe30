import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRow, readResultsFile, ResultRow, scoreRow, writeResultsFile } from './evaluate.ts';
import { LinearOptions, trainLinearHead } from './linear.ts';
import { PROTOCOLS } from './protocols/index.ts';
import { frozenRun } from './testing/frozen-run.ts';
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

describe('the linear protocol on real fixture X-rays', () => {
  it('scores the test split with the head it trains, and its row is valid and repeatable', async () => {
    const features = splits();
    const options = PROTOCOLS.linear.options.parse({ epochs: 15 });
    const out = await PROTOCOLS.linear.run(frozenRun({ dim: 64, ...features }, options, 3));
    const probs = trainLinearHead({ dim: 64, ...features, options: LinearOptions.parse({ ...options, seed: 3 }) }).testProbs!;
    expect(Array.from(out.probs)).toEqual(Array.from(probs));
    const row = ResultRow.parse({ label: 'thumbnail', method: 'thumbnail', size: 32, protocol: 'linear', fraction: 1, seed: 3, ...scoreRow(features.test.labels, out.probs, { n: 300, seed: 3 }), history: out.history });
    expect(row.accuracy).toBe(accuracy(features.test.labels, probs));
    expect(row.auc).toBe(auc(features.test.labels, probs));
    expect(row).toMatchObject({ n_test: 32, majority_accuracy: 0.5 });
    expect(row.balanced_accuracy).toBeCloseTo((row.sensitivity + row.specificity) / 2, 12);
    expect(row.ci.auc[0]).toBeLessThanOrEqual(row.auc);
    expect(row.ci.auc[1]).toBeGreaterThanOrEqual(row.auc);
    expect(row.roc[0]).toEqual([0, 0]);
    expect(row.roc.at(-1)).toEqual([1, 1]);
    expect(row.history).toHaveLength(15);
    expect(row.history![0].valAccuracy).toBeTypeOf('number');
    expect((await PROTOCOLS.linear.run(frozenRun({ dim: 64, ...features }, options, 3))).history).toEqual(out.history);
  });
});

describe('results file', () => {
  const row: ResultRow = {
    label: 'random',
    method: 'random',
    size: 128,
    protocol: 'linear',
    fraction: 1,
    seed: 0,
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
    writeFileSync(path, JSON.stringify({ version: 2, created: 'x', rows: [{ ...row, n_test: -1 }] }));
    expect(() => readResultsFile(path)).toThrow(new RegExp(`${path}: not a valid results file`));
    writeFileSync(path, '{');
    expect(() => readResultsFile(path)).toThrow(/cannot read results JSON/);
    expect(readFileSync(path, 'utf8')).toBe('{');
  });
  it("reads version 1 files: a row's init becomes its label and method, a variant's method is before its '+'", () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-results-'));
    const path = join(dir, 'results.json');
    const { label: _l, method: _m, protocol: _p, fraction: _f, seed: _s, ...v1 } = row;
    writeFileSync(path, JSON.stringify({ version: 1, created: 'x', rows: [{ ...v1, init: 'rotation' }, { ...v1, init: 'jigsaw+std', protocol: 'knn', seed: 2 }] }));
    const [a, b] = readResultsFile(path).rows;
    expect(a).toMatchObject({ label: 'rotation', method: 'rotation', protocol: 'linear', fraction: 1, seed: 0 });
    expect(a.base).toBeUndefined();
    expect(b).toMatchObject({ label: 'jigsaw+std', method: 'jigsaw', base: 'jigsaw', protocol: 'knn', seed: 2 });
    expect(parseRow({ ...v1, init: 'random' })).toMatchObject({ label: 'random', method: 'random' });
  });
});
