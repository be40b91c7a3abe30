import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateEncoder } from './evaluate-encoder.ts';
import type { ResultRow } from './evaluate.ts';
import { featureKey } from './frozen-features.ts';
import { randomEncoder } from './identity.ts';
import { EvalSettings } from './settings.ts';

const python = torchPythonForTests('eval/evaluate-encoder.test.ts');
const tmp = mkdtempSync(join(tmpdir(), 'cxr-evaluate-encoder-'));
let cache: ReturnType<typeof openCache>;
beforeAll(async () => {
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 0, valFraction: 0.1 });
  cache = openCache(join(tmp, 'cache'), 'fx', 32);
});
afterAll(() => {
  cache.close();
  rmSync(tmp, { recursive: true, force: true });
});
const knn = EvalSettings.parse({ protocols: ['knn'], features: 'ort', provider: 'cpu', knn: { k: 5 } });

describe('evaluateEncoder keys features and rows by the encoder, not its name', () => {
  it('two encoders of one label (a retrained run) get two feature caches, and a row of the other weights is not reused', async () => {
    const out = join(tmp, 'same-label');
    const a = await randomEncoder('vgg-small', 0);
    const b = { ...(await randomEncoder('vgg-small', 1)), label: a.label }; // the same name, other weights
    expect(b.weightsHash).not.toBe(a.weightsHash);
    const saved = new Map<string, ResultRow>();
    const ctx = { outDir: out, seed: 0, previous: (k: { label: string }) => saved.get(k.label), onRow: (r: ResultRow) => saved.set(r.label, r) };
    const [rowA] = await evaluateEncoder(a, cache, knn, ctx);
    const [rowB] = await evaluateEncoder(b, cache, knn, ctx);
    expect(rowA.weights_sha256).toBe(a.weightsHash);
    expect(rowB.weights_sha256).toBe(b.weightsHash);
    expect(rowB.scores).not.toEqual(rowA.scores); // computed from b's own features, not a's cached ones
    const files = readdirSync(join(out, 'features')).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['train', 'val', 'test'].flatMap((s) => [a, b].map((e) => `${featureKey(e, 32, s as 'train')}.json`)).sort());
    const meta = JSON.parse(readFileSync(join(out, 'features', `${featureKey(b, 32, 'test')}.json`), 'utf8'));
    expect(meta.encoder).toEqual({ label: 'random', weights: b.weightsHash });
    // the same weights again: the saved row is reused as it is
    const [again] = await evaluateEncoder(b, cache, knn, ctx);
    expect(again).toBe(rowB);
  }, 60_000);
});

describe.skipIf('error' in python)('evaluateEncoder with torch features', () => {
  it("splits one torch extraction into each split's cache entry, and scores as onnxruntime features do", async () => {
    const enc = await randomEncoder('vgg-small-bn', 0);
    const run = (features: 'torch' | 'ort', outDir: string) => evaluateEncoder(enc, cache, { ...knn, features }, { outDir, seed: 0, python: 'path' in python ? python.path : undefined });
    const [torch] = await run('torch', join(tmp, 'torch'));
    const [ort] = await run('ort', join(tmp, 'ort'));
    // each split's cache entry holds its own rows, in split order
    for (const split of ['train', 'val', 'test'] as const) {
      const meta = JSON.parse(readFileSync(join(tmp, 'torch', 'features', `${featureKey(enc, 32, split)}.json`), 'utf8')) as { rows: number };
      expect(meta.rows).toBe(cache.indices(split).length);
    }
    expect(torch.scores!.length).toBe(cache.indices('test').length);
    expect(Math.abs(torch.auc - ort.auc)).toBeLessThan(0.01);
  }, 120_000);
});
