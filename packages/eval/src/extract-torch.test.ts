import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FixtureImages, loadFixture } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights, isBuffer, type Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from './extract.ts';
import { chooseExtractor, extractFeaturesTorch } from './extract-torch.ts';
import { openEncoderSession } from './session.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('eval/extract-torch.test.ts');
const noTorch = 'error' in python;

/** Init weights with BatchNorm running statistics that are far from (0, 1), so eval-mode BN matters. */
function trainedLooking(name: string, seed: number): Weights {
  const spec = encoderSpec(name);
  const w = initWeights(spec, undefined, seed);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const [n, t] of w) {
    if (!isBuffer(n)) continue;
    const mean = n.endsWith('running_mean');
    for (let i = 0; i < t.data.length; i++) t.data[i] = mean ? (rand() - 0.5) * 0.6 : 0.3 + 2 * rand();
  }
  return w;
}

const relDiff = (a: Float32Array, b: Float32Array) => {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
};

let fx: FixtureImages;
beforeAll(async () => {
  fx = await loadFixture(64);
});

describe.skipIf(noTorch)('extractFeaturesTorch (real fixture X-rays, 64 px, CPU)', () => {
  const indices = [0, 7, 19, 33, 48, 60, 71, 95, 12];

  for (const name of ['vgg-small-bn', 'resnet18']) {
    it(`${name}: torch features agree with onnxruntime within 1e-3 relative (BN running stats not 0/1)`, async () => {
      const spec = encoderSpec(name);
      const weights = trainedLooking(name, 5);
      const { session } = await openEncoderSession(encoderOnnx(spec, weights), { provider: 'cpu', threads: 1 });
      const ort = await extractFeatures({ session, images: fx, indices, batchSize: 4 });
      const progress: number[] = [];
      const torch = await extractFeaturesTorch({ encoder: spec, weights, images: fx, indices, batchSize: 4, device: 'cpu', threads: 1, onProgress: (d) => progress.push(d) });
      expect(torch.dim).toBe(ort.dim);
      expect(torch.features).toHaveLength(indices.length * ort.dim);
      const rel = relDiff(torch.features, ort.features);
      console.log(`${name}: max |torch - ort| / max |ort| = ${rel.toExponential(2)} (${torch.device})`);
      expect(rel).toBeLessThan(1e-3);
      expect(progress).toEqual([4, 8, 9]);
      // the running statistics are what eval-mode BN uses: features from (0, 1) stats differ
      const plain = await extractFeaturesTorch({ encoder: spec, weights: initWeights(spec, undefined, 5), images: fx, indices: [0], device: 'cpu', threads: 1 });
      expect(relDiff(plain.features, torch.features.subarray(0, ort.dim))).toBeGreaterThan(1e-2);
    });
  }

  it('reads rows straight from a dataset cache file, in the order of `indices`', async () => {
    const spec = encoderSpec('vgg-small-bn');
    const weights = trainedLooking('vgg-small-bn', 2);
    const dir = mkdtempSync(join(tmpdir(), 'cxr-extract-test-'));
    try {
      const u8 = join(dir, 'fx-64.u8');
      const all = new Uint8Array(fx.count * 64 * 64);
      for (let i = 0; i < fx.count; i++) all.set(fx.image(i), i * 64 * 64);
      writeFileSync(u8, all);
      const fromFile = await extractFeaturesTorch({ encoder: spec, weights, images: fx, cacheFile: u8, indices: [70, 3], device: 'cpu', threads: 1 });
      const inMemory = await extractFeaturesTorch({ encoder: spec, weights, images: fx, indices: [3, 70], device: 'cpu', threads: 1 });
      const d = fromFile.dim;
      expect(Array.from(fromFile.features.subarray(0, d))).toEqual(Array.from(inMemory.features.subarray(d)));
      expect(Array.from(fromFile.features.subarray(d))).toEqual(Array.from(inMemory.features.subarray(0, d)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing weight, and an out-of-range index with its position', async () => {
    const spec = encoderSpec('vgg-small-bn');
    await expect(extractFeaturesTorch({ encoder: spec, weights: new Map(), images: fx, indices: [0] })).rejects.toThrow(/have no 'features\.0\.weight'/);
    await expect(extractFeaturesTorch({ encoder: spec, weights: initWeights(spec, undefined, 1), images: fx, indices: [0, 96] })).rejects.toThrow(/index 96 at position 1/);
  });

  it('--features: ort when asked, torch when asked, auto = torch only with CUDA', () => {
    expect(chooseExtractor('ort', 'auto').extractor).toBe('ort');
    expect(chooseExtractor('torch', 'auto').extractor).toBe('torch');
    expect(chooseExtractor('auto', 'cuda').extractor).toBe('ort');
    expect(chooseExtractor('auto', 'auto').extractor).toBe(!noTorch && (python as { cuda: boolean }).cuda ? 'torch' : 'ort');
  });
});
