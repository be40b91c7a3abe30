import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FixtureImages, loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadKind, type LinearHead, predictOutputs, trainLinearHead } from './linear.ts';
import { auc } from './metrics.ts';
import { column } from './output-metrics.ts';
import { thumbnailSplit } from './testing/thumbnails.ts';

// The linear head's softmax over C classes and its sigmoid per output, checked against torch: one
// full-batch Adam step from the same weights on real fixture thumbnails gives the same weights.
const python = torchPythonForTests('eval/linear-targets.test.ts');
let fx: FixtureImages;
let tmp: string;
beforeAll(async () => {
  fx = await loadFixture(32);
  tmp = mkdtempSync(join(tmpdir(), 'cxr-linear-targets-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Labels from the fixture's file names: class 0 NORMAL, 1 bacteria, 2 virus; and as findings [pneumonia, bacteria, virus]. */
const causeOf = (f: string) => (f.includes('_virus_') ? 2 : f.includes('_bacteria_') ? 1 : 0);
function splitOf(rows: number[], kind: HeadKind) {
  const base = thumbnailSplit(fx, rows, 'diagnosis');
  const causes = rows.map((r) => causeOf(fx.files[r]));
  const labels = kind.kind === 'softmax' ? Int32Array.from(causes) : Int32Array.from(causes.flatMap((c) => [c > 0 ? 1 : 0, c === 1 ? 1 : 0, c === 2 ? 1 : 0]));
  return { features: base.features, labels };
}

/** One Adam step per problem in the file (a list), in float64; prints the new weights of each. */
const TORCH_STEP = `
import json, sys, torch
out = []
for d in json.load(open(sys.argv[1])):
    t = lambda k, *shape: torch.tensor(d[k], dtype=torch.float64).reshape(*shape)
    n, dim, H, C = d['n'], d['dim'], d['hidden'], d['outputs']
    x = (t('features', n, dim) - t('mean', dim)) * t('invStd', dim)
    w1 = t('w1', H, dim).requires_grad_(); b1 = t('b1', H).requires_grad_()
    w2 = t('w2', C, H).requires_grad_(); b2 = t('b2', C).requires_grad_()
    opt = torch.optim.Adam([w1, b1, w2, b2], lr=d['lr'], betas=(0.9, 0.999), eps=1e-8)
    logits = torch.relu(x @ w1.T + b1) @ w2.T + b2
    if d['kind'] == 'softmax':
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(d['labels']))
    else:
        # a sum over the outputs, a mean over the images
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, t('labels', n, C), reduction='sum') / n
    opt.zero_grad(); loss.backward(); opt.step()
    out.append({'w1': w1.flatten().tolist(), 'b1': b1.tolist(), 'w2': w2.flatten().tolist(), 'b2': b2.tolist()})
print(json.dumps(out))
`;

const KINDS: HeadKind[] = [
  { kind: 'softmax', classes: 3 },
  { kind: 'sigmoid', outputs: 3 },
];

describe.skipIf('error' in python)('the linear head for classes and findings, against torch (fixture thumbnails)', () => {
  it('softmax over 3 classes and a sigmoid per output: one full-batch Adam step gives torch\'s weights', () => {
    if ('error' in python) throw new Error(python.error);
    const options = { seed: 4, epochs: 1, batchSize: 128, hidden: 32 };
    const arr = (a: ArrayLike<number>) => Array.from(a);
    const cases = KINDS.map((kind) => {
      const train = splitOf(splitIndices(fx, 'train'), kind);
      // the same seed draws the same initial weights; an lr of 1e-12 leaves them where they were drawn
      const start = trainLinearHead({ dim: 64, train, head: kind, options: { ...options, lr: 1e-12 } }).head;
      const stepped = trainLinearHead({ dim: 64, train, head: kind, options: { ...options, lr: 0.01 } }).head;
      const input = { kind: kind.kind, n: train.features.length / 64, dim: 64, hidden: 32, outputs: start.outputs, lr: 0.01, features: arr(train.features), labels: arr(train.labels), mean: arr(start.mean), invStd: arr(start.invStd), w1: arr(start.w1), b1: arr(start.b1), w2: arr(start.w2), b2: arr(start.b2) };
      return { start, stepped, input };
    });
    writeFileSync(join(tmp, 'in.json'), JSON.stringify(cases.map((c) => c.input)));
    const r = spawnSync(python.path, ['-c', TORCH_STEP, join(tmp, 'in.json')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.stderr).toBe('');
    const all = JSON.parse(r.stdout) as Record<'w1' | 'b1' | 'w2' | 'b2', number[]>[];
    cases.forEach(({ start, stepped }, c) => {
      let worst = 0;
      let moved = 0;
      for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
        stepped[k].forEach((v, i) => {
          worst = Math.max(worst, Math.abs(v - all[c][k][i]));
          moved = Math.max(moved, Math.abs(v - start[k][i]));
        });
      }
      // Adam's first step moves each weight by about lr: the check is at 1 % of it
      expect(moved, KINDS[c].kind).toBeGreaterThan(0.005);
      expect(worst, KINDS[c].kind).toBeLessThan(1e-4);
    });
  });

  it.each(KINDS)('$kind: trained, it tells the causes apart on held-out images better than chance', (kind) => {
    const rows = splitIndices(fx, 'train');
    // the fixture's test split has no viral image: hold out every third train image instead
    const train = splitOf(rows.filter((_, i) => i % 3 !== 0), kind);
    const held = splitOf(rows.filter((_, i) => i % 3 === 0), kind);
    const r = trainLinearHead({ dim: 64, train, head: kind, options: { seed: 0, epochs: 30 } });
    const probs = predictOutputs(r.head as LinearHead, held);
    const truth = kind.kind === 'softmax' ? Array.from(held.labels).flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))) : Array.from(held.labels);
    // NORMAL vs the rest (softmax column 0) or pneumonia (sigmoid column 0): what thumbnails carry
    expect(auc(column(truth, 3, 0), column(probs, 3, 0))).toBeGreaterThan(0.75);
    if (kind.kind === 'softmax') for (let i = 0; i < probs.length / 3; i++) expect(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2]).toBeCloseTo(1, 5);
  });
});
