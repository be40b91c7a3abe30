import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import { type EfficiencyCell, type SeedSummary, labelEfficiency, readResultsFile } from '@cxr-ssl/eval';
import { describe, expect, it } from 'vitest';
import { answerMarkdown, comparisonSentence, comparisons, verdictOf } from './answer.ts';

// A hand-made grid of cells whose differences to the references are set, so each sentence can be
// written down by hand; then the real fixture evaluation of docs/results, checked against its cells.
const d = (mean: number, lo: number, hi: number): SeedSummary => ({ mean, sd: 0, ci: [lo, hi] });
const pair = (auc: SeedSummary) => ({ accuracy: auc, auc });
function cell(label: string, method: string, protocol: string, fraction: number, vs: Record<string, SeedSummary>, extra: Partial<EfficiencyCell> = {}): EfficiencyCell {
  return {
    data: 'fx',
    size: 64,
    protocol,
    target: 'abnormal',
    label,
    method,
    fraction,
    seeds: [0, 1, 2],
    n_train: 10,
    accuracy: d(0.8, 0.7, 0.9),
    auc: d(0.8, 0.7, 0.9),
    vs: Object.fromEntries(Object.entries(vs).map(([k, v]) => [k, pair(v)])),
    ...extra,
  };
}

describe('verdicts from the paired CI', () => {
  it('beats / loses only when the CI leaves 0 out; a CI touching 0 is a tie', () => {
    expect(verdictOf(d(0.05, 0.001, 0.1))).toBe('beats');
    expect(verdictOf(d(-0.05, -0.1, -0.001))).toBe('loses');
    expect(verdictOf(d(0.05, 0, 0.1))).toBe('ties');
    expect(verdictOf(d(0.05, -0.01, 0.1))).toBe('ties');
  });
});

describe('answer sentences', () => {
  const cells = [
    // dino: vs ImageNet beats at 1 %, ties at 10 %, loses at 100 % (linear); ties everywhere (knn)
    cell('dino-k', 'dino', 'linear', 0.01, { imagenet: d(0.065, 0.037, 0.096), random: d(0.2, 0.1, 0.3) }),
    cell('dino-k', 'dino', 'linear', 0.1, { imagenet: d(0.01, -0.02, 0.04), random: d(0.25, 0.15, 0.35) }),
    cell('dino-k', 'dino', 'linear', 1, { imagenet: d(-0.012, -0.02, -0.004), random: d(0.3, 0.2, 0.4) }),
    cell('dino-k', 'dino', 'knn', 0.01, { imagenet: d(0.01, -0.05, 0.07), random: d(0.01, -0.05, 0.07) }),
    cell('dino-k', 'dino', 'knn', 0.1, { imagenet: d(0.0, -0.05, 0.05), random: d(0.0, -0.05, 0.05) }),
    cell('dino-k', 'dino', 'knn', 1, { imagenet: d(-0.01, -0.05, 0.03), random: d(-0.01, -0.05, 0.03) }),
    // the references: ImageNet against random init, and random init against ImageNet (the mirror: not said)
    cell('imagenet', 'imagenet', 'linear', 0.01, { random: d(0.1, 0.05, 0.15) }),
    cell('random', 'random', 'linear', 0.01, { imagenet: d(-0.1, -0.15, -0.05) }),
    // a variant, compared with the encoder it varies
    cell('dino-k+long', 'dino', 'linear', 0.01, {}, { base: { label: 'dino-k', ...pair(d(0.02, 0.01, 0.03)) } }),
  ];

  it('one comparison per encoder and reference it was paired with, references only downwards, variants with their base', () => {
    expect(comparisons(cells).map((c) => `${c.label} vs ${c.other}`)).toEqual([
      'imagenet vs random init',
      'dino-k vs random init',
      'dino-k vs ImageNet',
      'dino-k+long vs dino-k',
    ]);
  });

  it('strongest finding first, the protocol named once per panel, a panel that ties everywhere said last', () => {
    const [, random, imagenet, variant] = comparisons(cells).map(comparisonSentence);
    expect(imagenet).toBe('**dino-k** beats ImageNet at 1\u00a0% of labels, linear +6.5 AUC [3.7, 9.6]; loses at 100\u00a0% −1.2 [−2.0, −0.4]; ties at 10\u00a0%; ties at every label fraction, knn.');
    expect(random).toBe('**dino-k** beats random init at every label fraction, linear +20.0 to +30.0 AUC; ties at every label fraction, knn.');
    expect(variant).toBe('**dino-k+long** beats dino-k at 1\u00a0% of labels, linear +2.0 AUC [1.0, 3.0].');
  });

  it('with one fraction a tie gives its difference; panels that tie everywhere are one clause', () => {
    const one = comparisonSentence({ label: 'simclr', other: 'random init', diffs: [{ panel: 'linear', fraction: 1, auc: d(0.133, -0.145, 0.399) }] });
    expect(one).toBe('**simclr** ties with random init at 100\u00a0% of labels, linear +13.3 AUC [−14.5, 39.9].');
    const flat = ['linear', 'knn'].flatMap((panel) => [0.1, 1].map((fraction) => ({ panel, fraction, auc: d(0.01, -0.02, 0.04) })));
    expect(comparisonSentence({ label: 'b', other: 'ImageNet', diffs: flat })).toBe('**b** ties with ImageNet at every label fraction, linear and knn.');
  });

  it('without a reference, the answer says what to add', () => {
    expect(answerMarkdown([cell('a', 'rotation', 'linear', 1, {})])[0]).toMatch(/^No encoder was evaluated beside a reference .*--encoders <run>,random/);
  });
});

describe('on the fixture evaluation (4 encoders, linear and kNN, 1/10/100 %, 3 seeds)', () => {
  it("every figure a sentence gives is its cell's seed-averaged paired difference", () => {
    const rows = readResultsFile(join(repoRoot(), 'docs', 'results', 'eval-fixture-mnv2-2026-12-07', 'results.json')).rows;
    const cells = labelEfficiency(rows);
    const lines = answerMarkdown(cells).filter((l) => l.startsWith('- '));
    expect(lines).toHaveLength(5); // imagenet vs random; each dino run vs random and vs ImageNet
    // dino-a vs ImageNet under linear at 10 %: the one single-fraction finding of that comparison
    const c = cells.find((x) => x.label === 'dino-a' && x.protocol === 'linear' && x.fraction === 0.1)!.vs.imagenet.auc;
    const text = (x: number) => (100 * x).toFixed(1).replace('-', '−');
    expect(c.ci[0]).toBeGreaterThan(0);
    expect(lines).toContain(`- **dino-a** beats ImageNet at 10\u00a0% of labels, linear +${text(c.mean)} AUC [${text(c.ci[0])}, ${text(c.ci[1])}]; ties at 1\u00a0% and 100\u00a0%; ties at every label fraction, knn.`);
  });
});
