import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatasetCache, openCache, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairRows } from './compare.ts';
import { evaluateEncoder } from './evaluate-encoder.ts';
import type { ResultRow } from './evaluate.ts';
import { EvalInputError, randomEncoder } from './identity.ts';
import { auc } from './metrics.ts';
import { column } from './output-metrics.ts';
import { EvalSettings } from './settings.ts';
import { targetLabels } from './targets.ts';
import { writeLabelledFixture } from './testing/labelled-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-targets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let cache: DatasetCache;
let testVirus = 0;

beforeAll(async () => {
  const csv = join(tmp, 'labelled.csv');
  ({ testVirus } = writeLabelledFixture(csv));
  await prepare({ adapter: 'csv', root: csv, sizes: [32], cacheDir: join(tmp, 'cache'), name: 'labelled', workers: 0, valFraction: 0.25 });
  cache = openCache(join(tmp, 'cache'), 'labelled', 32);
}, 60_000);
afterAll(() => cache?.close());

describe("targets read from a prepared set's manifest (the fixture's X-rays with Kermany's classes and findings)", () => {
  it('classes: one of NORMAL, bacteria, virus per image; findings: pneumonia plus its cause, none for NORMAL', () => {
    const rows = cache.indices('test');
    const classes = targetLabels('classes', cache.manifest, 'labelled');
    expect(classes.target.outputs).toEqual(['NORMAL', 'bacteria', 'virus']);
    const y = classes.truth(rows);
    // one-hot, and the viral patients that moved to test are there
    for (let i = 0; i < rows.length; i++) expect(y[i * 3] + y[i * 3 + 1] + y[i * 3 + 2]).toBe(1);
    expect(column(y, 3, 2).reduce((s, v) => s + v, 0)).toBe(testVirus);
    expect(testVirus).toBeGreaterThan(2);
    const findings = targetLabels('findings', cache.manifest, 'labelled');
    expect(findings.target.outputs).toEqual(['bacteria', 'pneumonia', 'virus']);
    const f = findings.truth(rows);
    rows.forEach((r, i) => {
      const e = cache.manifest.entries[r];
      expect([f[i * 3], f[i * 3 + 1], f[i * 3 + 2]]).toEqual([e.class === 'bacteria' ? 1 : 0, e.label, e.class === 'virus' ? 1 : 0]);
    });
    expect(findings.strata(rows[0])).toEqual(cache.manifest.entries[rows[0]].findings!.length ? cache.manifest.entries[rows[0]].findings : ['none']);
  });

  it('refuses a class or finding target on a set without them, naming the image and what to do', () => {
    const entries = cache.manifest.entries.map(({ class: _c, findings: _f, ...e }) => e);
    expect(() => targetLabels('classes', { version: 2, entries }, 'x')).toThrow(EvalInputError);
    expect(() => targetLabels('classes', { version: 2, entries }, 'x')).toThrow(/--target classes: x keeps no class for image .*prepare it again/);
    expect(() => targetLabels('findings', { version: 2, entries }, 'x')).toThrow(/--target findings: x keeps no findings for image .*CSV 'findings' column/);
    expect(() => targetLabels('findings', { version: 1, entries: cache.manifest.entries }, 'x')).toThrow(/cache version 1, which keeps no class structure: .*--force/);
    expect(targetLabels('abnormal', { version: 1, entries }, 'x').target.outputs).toEqual(['abnormal']);
  });
});

describe('evaluateEncoder with --target classes and findings (random vgg-small-bn at 32 px, linear and kNN)', () => {
  const run = async (target: 'classes' | 'findings', out: string): Promise<ResultRow[]> => {
    const settings = EvalSettings.parse({ protocols: ['linear', 'knn'], fractions: [0.5, 1], target, features: 'ort', provider: 'cpu', linear: { epochs: 20 } });
    const [enc, other] = await Promise.all([randomEncoder('vgg-small-bn', 0), randomEncoder('vgg-small-bn', 1)]);
    const rows = [
      ...(await evaluateEncoder(enc, cache, settings, { outDir: join(tmp, out), seed: 0 })),
      ...(await evaluateEncoder({ ...other, label: 'other', method: 'other' }, cache, settings, { outDir: join(tmp, out), seed: 0 })),
    ];
    return pairRows(rows, { n: 200 });
  };

  it('findings: per-finding AUCs with CIs, macro and micro means, operating points from val, calibration, paired ΔAUC per finding', async () => {
    const rows = await run('findings', 'findings');
    const r = rows.find((x) => x.label === 'other' && x.protocol === 'linear' && x.fraction === 1)!;
    expect(r.target).toBe('findings');
    expect(r.outputs!.map((o) => o.name)).toEqual(['bacteria', 'pneumonia', 'virus']);
    const n = r.n_test;
    const labels = Array.from(r.test_labels!, Number);
    expect(labels.length).toBe(3 * n);
    for (const [k, o] of r.outputs!.entries()) {
      // each output's AUC is the binary AUC of its column, and lies in its CI
      expect(o.auc).toBeCloseTo(auc(column(labels, 3, k), column(r.scores!, 3, k)), 5);
      expect(o.ci![0]).toBeLessThanOrEqual(o.auc!);
      expect(o.ci![1]).toBeGreaterThanOrEqual(o.auc!);
      expect(o.operating!.map((p) => `${p.fixed}@${p.level}`)).toEqual(['specificity@0.9', 'specificity@0.95', 'sensitivity@0.9', 'sensitivity@0.95']);
      expect(o.ece).toBeGreaterThanOrEqual(0);
      expect(o.reliability!.reduce((s, b) => s + b.n, 0)).toBe(n);
      // paired against random init: the difference of the two rows' AUCs of this finding
      const q = rows.find((x) => x.label === 'random' && x.protocol === 'linear' && x.fraction === 1)!;
      expect(o.paired!.random.diff).toBeCloseTo(o.auc! - q.outputs![k].auc!, 5);
    }
    expect(r.auc).toBeCloseTo(r.outputs!.reduce((s, o) => s + o.auc!, 0) / 3, 6);
    expect(r.micro_auc).toBeCloseTo(auc(labels, r.scores!), 6);
    // pneumonia is what the random features carry best (normal vs pneumonia, as the study's target)
    expect(r.outputs![1].auc).toBeGreaterThan(0.7);
    // the 50 % draw keeps positives of every finding (strata: a patient's rarest finding)
    const half = rows.find((x) => x.label === 'random' && x.protocol === 'knn' && x.fraction === 0.5)!;
    expect(half.n_train).toBeLessThan(r.n_train!);
  }, 180_000);

  it('classes: per-class one-vs-rest AUCs, top-1 accuracy, probabilities that sum to 1 per image', async () => {
    const rows = await run('classes', 'classes');
    for (const r of rows) {
      expect(r.target).toBe('classes');
      expect(r.outputs!.map((o) => o.name)).toEqual(['NORMAL', 'bacteria', 'virus']);
      for (let i = 0; i < r.n_test; i++) expect(r.scores![i * 3] + r.scores![i * 3 + 1] + r.scores![i * 3 + 2]).toBeCloseTo(1, 4);
      expect(r.outputs!.every((o) => o.auc !== undefined)).toBe(true);
      expect(r.majority_accuracy).toBeCloseTo(Math.max(...r.outputs!.map((o) => o.n_pos)) / r.n_test, 9);
    }
    const linear = rows.find((x) => x.label === 'random' && x.protocol === 'linear' && x.fraction === 1)!;
    expect(linear.accuracy).toBeGreaterThan(linear.majority_accuracy);
    expect(linear.outputs![0].auc).toBeGreaterThan(0.7); // NORMAL vs the rest
  }, 180_000);

  it('refuses fine-tuning for findings before any work, and targets in a protocol that cannot', () => {
    expect(EvalSettings.safeParse({ protocols: ['finetune'], target: 'findings' }).error?.issues[0].message).toMatch(/--target findings: the finetune protocol predicts abnormal or classes only/);
    expect(EvalSettings.safeParse({ protocols: ['finetune'], target: 'classes' }).success).toBe(true);
    expect(EvalSettings.safeParse({ target: 'organs' }).success).toBe(false);
  });
});
