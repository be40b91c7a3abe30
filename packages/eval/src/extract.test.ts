import { beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from './extract.ts';
import { openEncoderSession } from './session.ts';
import { testEncoder } from './testing/encoder.ts';
import { type FixtureImages, loadFixture } from '@cxr-ssl/data/testing';

let fx: FixtureImages;
let session: Awaited<ReturnType<typeof openEncoderSession>>['session'];
beforeAll(async () => {
  fx = await loadFixture(32);
  session = (await openEncoderSession(testEncoder().onnx, { provider: 'cpu', threads: 1 })).session;
});

describe('extractFeatures (vgg-small via the project ONNX writer, real fixture X-rays at 32 px)', () => {
  const indices = [0, 5, 17, 33, 40, 63, 64, 80, 95];

  it('gives the same rows batched as one by one', async () => {
    const batched = await extractFeatures({ session, images: fx, indices, batchSize: 4 });
    expect(batched.dim).toBe(256);
    expect(batched.features).toHaveLength(indices.length * 256);
    for (let k = 0; k < indices.length; k++) {
      const one = await extractFeatures({ session, images: fx, indices: [indices[k]], batchSize: 1 });
      const row = batched.features.subarray(k * 256, (k + 1) * 256);
      for (let j = 0; j < 256; j++) expect(row[j]).toBeCloseTo(one.features[j], 5);
    }
  });

  it('follows the order of `indices` and the features differ between images', async () => {
    const ab = await extractFeatures({ session, images: fx, indices: [3, 70] });
    const ba = await extractFeatures({ session, images: fx, indices: [70, 3] });
    expect(Array.from(ba.features.subarray(0, 256))).toEqual(Array.from(ab.features.subarray(256)));
    expect(Array.from(ab.features.subarray(0, 256))).not.toEqual(Array.from(ab.features.subarray(256)));
    expect(ab.features.every(Number.isFinite)).toBe(true);
  });

  it('reports progress per batch', async () => {
    const seen: [number, number][] = [];
    await extractFeatures({ session, images: fx, indices, batchSize: 4, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([
      [4, 9],
      [8, 9],
      [9, 9],
    ]);
  });

  it('names an out-of-range index and its position', async () => {
    await expect(extractFeatures({ session, images: fx, indices: [0, 96] })).rejects.toThrow(
      /index 96 at position 1 is outside the 96 images/,
    );
  });
});
