import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { describe, expect, it } from 'vitest';
import { EvalSettings, evaluateEncoder, randomEncoder } from './evaluation.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('cli/evaluation.test.ts');
const noTorch = 'error' in python;

describe.skipIf(noTorch)('evaluateEncoder with torch features', () => {
  it("splits one torch extraction into each split's cache entry, and scores as onnxruntime features do", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cxr-eval-torch-'));
    try {
      await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [64], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 0, valFraction: 0.1 });
      const cache = openCache(join(tmp, 'cache'), 'fx', 64);
      const settings = EvalSettings.parse({ protocols: ['knn'], fractions: [1], seeds: 1 });
      const enc = await randomEncoder('vgg-small-bn', 0);
      const run = (features: 'torch' | 'ort', outDir: string) =>
        evaluateEncoder(enc, cache, settings, { outDir, seed: 0, provider: 'cpu', features, batchSize: 32, quiet: true });
      const [torch] = await run('torch', join(tmp, 'torch'));
      const [ort] = await run('ort', join(tmp, 'ort'));
      // each split's cache entry holds its own rows, in split order
      for (const split of ['train', 'val', 'test'] as const) {
        const meta = JSON.parse(readFileSync(join(tmp, 'torch', 'features', `random-64-${split}.json`), 'utf8')) as { rows: number };
        expect(meta.rows).toBe(cache.indices(split).length);
      }
      expect(torch.scores!.length).toBe(cache.indices('test').length);
      expect(Math.abs(torch.auc - ort.auc)).toBeLessThan(0.01);
      cache.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
