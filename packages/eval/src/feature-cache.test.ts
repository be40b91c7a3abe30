import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Features } from './extract.ts';
import { cachedFeatures, FeatureMeta } from './feature-cache.ts';

/** A compute function that counts its calls and returns features derived from the indices. */
function counter(dim: number) {
  const calls = { n: 0 };
  const compute = (indices: number[], salt: number) => async (): Promise<Features> => {
    calls.n++;
    const features = new Float32Array(indices.length * dim);
    for (let k = 0; k < features.length; k++) features[k] = indices[Math.floor(k / dim)] * 10 + (k % dim) + salt;
    return { features, dim };
  };
  return { calls, compute };
}

describe('cachedFeatures', () => {
  const onnxA = new Uint8Array([1, 2, 3]);
  const onnxB = new Uint8Array([1, 2, 4]);
  const indices = [4, 0, 7];

  it('reuses identical inputs, recomputes (with a reason) when anything changes', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'eval-fc-'));
    const { calls, compute } = counter(2);
    const base = { runDir, key: 'test-32', dataHash: 'd1' };
    const first = await cachedFeatures({ ...base, onnx: onnxA, indices, compute: compute(indices, 0) });
    expect(first).toMatchObject({ reused: false, reason: 'no cached features', dim: 2 });
    const again = await cachedFeatures({ ...base, onnx: onnxA, indices, compute: compute(indices, 0) });
    expect(again.reused).toBe(true);
    expect(Array.from(again.features)).toEqual(Array.from(first.features));
    expect(calls.n).toBe(1);

    const b = await cachedFeatures({ ...base, onnx: onnxB, indices, compute: compute(indices, 1) });
    expect(b).toMatchObject({ reused: false, reason: 'the encoder changed' });
    expect(b.features[0]).toBe(41);
    const reordered = [4, 7, 0];
    const rows = await cachedFeatures({ ...base, onnx: onnxB, indices: reordered, compute: compute(reordered, 1) });
    expect(rows).toMatchObject({ reused: false, reason: 'the image rows changed' });
    const data = await cachedFeatures({ ...base, dataHash: 'd2', onnx: onnxB, indices: reordered, compute: compute(reordered, 1) });
    expect(data).toMatchObject({ reused: false, reason: 'the data set changed' });
    expect(calls.n).toBe(4);
    // the last write wins and is reused as-is
    const last = await cachedFeatures({ ...base, dataHash: 'd2', onnx: onnxB, indices: reordered, compute: compute(reordered, 9) });
    expect(last.reused).toBe(true);
    expect(last.features[0]).toBe(41);
  });

  it('recomputes when the payload was overwritten or its metadata is missing', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'eval-fc-'));
    const { calls, compute } = counter(3);
    const args = { runDir, key: 'train', onnx: onnxA, indices, compute: compute(indices, 0) };
    await cachedFeatures(args);
    const bin = join(runDir, 'features', 'train.f32');
    const meta = FeatureMeta.parse(JSON.parse(readFileSync(join(runDir, 'features', 'train.json'), 'utf8')));
    expect(meta).toMatchObject({ rows: 3, dim: 3, dataHash: '' });
    const bytes = readFileSync(bin);
    bytes[0] ^= 1;
    writeFileSync(bin, bytes);
    expect((await cachedFeatures(args)).reason).toMatch(/does not match its metadata/);
    rmSync(join(runDir, 'features', 'train.json'));
    expect((await cachedFeatures(args)).reason).toBe('no cached features');
    writeFileSync(join(runDir, 'features', 'train.json'), '{ not json');
    expect((await cachedFeatures(args)).reason).toMatch(/not valid feature metadata/);
    expect(calls.n).toBe(4);
    expect((await cachedFeatures(args)).reused).toBe(true);
  });

  it('accepts a precomputed encoder hash and rejects unsafe keys', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'eval-fc-'));
    const { compute } = counter(1);
    await expect(cachedFeatures({ runDir, key: '../x', onnx: { hash: 'h' }, indices, compute: compute(indices, 0) })).rejects.toThrow(
      /key '..\/x'/,
    );
    const r = await cachedFeatures({ runDir, key: 'k', onnx: { hash: 'h' }, indices, compute: compute(indices, 0) });
    expect(r.reused).toBe(false);
    // a reproduce variant's init names its features ('<method>+<label>-<size>-<split>')
    const v = await cachedFeatures({ runDir, key: 'jigsaw+std-64-train', onnx: { hash: 'h' }, indices, compute: compute(indices, 0) });
    expect(v.reused).toBe(false);
  });
});
