import { spawnSync } from 'node:child_process';
import { loadFixture } from '@cxr-ssl/data/testing';
import { torchTests } from '@cxr-ssl/torch/testing';
import { describe, expect, it } from 'vitest';
import { embeddingStats } from './collapse.ts';

describe('embeddingStats: hand-computed cases', () => {
  it('every row the same direction: spread 0, rank 1, cosine 1', () => {
    const rows = [1, 2, 3, 2, 4, 6, 0.5, 1, 1.5, 3, 6, 9];
    const s = embeddingStats(rows, 4, 3);
    expect(s.spread).toBeCloseTo(0, 12);
    expect(s.cosine).toBeCloseTo(1, 12);
    expect(s.rank).toBeLessThan(1.000001); // centred, the rows still differ in length: one direction
  });

  it('the 2d unit vectors ±e1, ±e2: spread and rank computed by hand', () => {
    // coordinate 0 over the rows is (1, -1, 0, 0): sd (unbiased) = sqrt(2/3); the same for coordinate 1
    const s = embeddingStats([1, 0, -1, 0, 0, 1, 0, -1], 4, 2);
    expect(s.spread).toBeCloseTo(Math.sqrt(2 / 3) * Math.sqrt(2), 12);
    // centred rows are the rows: singular values sqrt(2), sqrt(2) -> entropy ln 2 -> rank 2
    expect(s.rank).toBeCloseTo(2, 10);
    // pairs: (e1,-e1) -1, (e1,±e2) 0 ... the sum over the 12 ordered pairs is -4
    expect(s.cosine).toBeCloseTo(-4 / 12, 12);
  });

  it('refuses a shape that does not match its values', () => {
    expect(() => embeddingStats([1, 2, 3], 2, 2)).toThrow(/3 values are not 2 rows of 2/);
  });
});

// rows from real X-rays (fixture thumbnails, 8x8 = 64 numbers per image) against torch's SVD and the
// lightly formula written in torch: an independent reference for the Jacobi eigenvalues and the spread
const torch = torchTests('embeddingStats against torch (train/src/collapse.test.ts)');
describe.skipIf(torch.skip)('embeddingStats against torch.linalg.svdvals on real X-rays', () => {
  it.each([
    ['more rows than dims', 96, 16],
    ['fewer rows than dims', 20, 64],
  ])('%s (%i x %i)', async (_, n, dim) => {
    const fx = await loadFixture(8);
    const rows = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const img = fx.image(i % fx.count);
      for (let j = 0; j < dim; j++) rows[i * dim + j] = img[j] / 255 - (i % 3) * 0.1;
    }
    const ours = embeddingStats(rows, n, dim);
    const code = `
import json, sys, torch
z = torch.tensor(json.load(sys.stdin), dtype=torch.float64)
s = torch.linalg.svdvals(z - z.mean(0)); p = s / s.sum()
zn = torch.nn.functional.normalize(z, dim=1)
off = ~torch.eye(len(z), dtype=torch.bool)
print(json.dumps({'rank': torch.exp(-(p * torch.log(p.clamp_min(1e-30))).sum()).item(),
  'spread': (zn.std(0).mean() * z.shape[1] ** 0.5).item(), 'cosine': (zn @ zn.T)[off].mean().item()}))`;
    const r = spawnSync(torch.python!, ['-c', code], { input: JSON.stringify(Array.from({ length: n }, (_, i) => Array.from(rows.subarray(i * dim, (i + 1) * dim)))), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout);
    expect(ours.rank).toBeCloseTo(ref.rank, 8);
    expect(ours.spread).toBeCloseTo(ref.spread, 8);
    expect(ours.cosine).toBeCloseTo(ref.cosine, 8);
  });
});
