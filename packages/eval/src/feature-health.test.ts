import { type FixtureImages, loadFixture, splitIndices } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from './extract.ts';
import { featureHealth, featureWarning } from './feature-health.ts';
import { standardiser, trainLinearHead } from './linear.ts';
import { auc } from './metrics.ts';
import { openEncoderSession } from './session.ts';

describe('featureHealth', () => {
  it('by hand: a dead feature, a constant one, two that vary', () => {
    // 3 images x 4 features: [0, 5, x, y]
    const f = Float32Array.from([0, 5, 1, 2, 0, 5, 2, 4, 0, 5, 3, 6]);
    const h = featureHealth(f, 4);
    expect(h).toEqual({ scale: expect.closeTo(Math.sqrt((3 * 25 + 1 + 4 + 9 + 4 + 16 + 36) / 12), 9), dead: 0.25, constant: 0.5 });
    expect(featureWarning('enc', h)).toMatch(/^warning: 50\.0 % of enc's features are constant over the train images \(25\.0 % always 0/);
    expect(featureWarning('enc', { ...h, constant: 0.1 })).toBeUndefined();
    expect(featureWarning('enc', { ...h, constant: 0, scale: 1e-9 })).toMatch(/scale 1\.00e-9/);
  });
});

/**
 * The random MobileNetV2-0.35 (BatchNorm folded, none left) on real X-rays: its init now counts a
 * depthwise kernel's fan-out per group; torch's formula (all channels) made its features ~1e-9, which
 * the linear head's old absolute floor (std > 1e-8) took for constant: AUC 50.0 on every row.
 */
describe('the random MobileNetV2-0.35 on fixture X-rays (64 px)', () => {
  let fx: FixtureImages;
  const spec = encoderSpec('mobilenetv2-0.35');
  const features = async (weights: Weights) => {
    const { session } = await openEncoderSession(encoderOnnx(spec, weights), { provider: 'cpu' });
    const f = await extractFeatures({ session, images: { count: fx.count, size: 64, image: (i) => fx.image(i) }, indices: Array.from({ length: fx.count }, (_, i) => i) });
    await session.release?.();
    return f.features;
  };
  /** The same seed's weights with each depthwise kernel as torch's fan-out would have scaled it: 1 / sqrt(channels) of ours. */
  const torchFanOut = (w: Weights): Weights =>
    new Map([...w].map(([name, t]) => [name, t.shape.length === 4 && t.shape[1] === 1 && t.shape[0] > 1 ? { shape: t.shape, data: t.data.map((v) => v / Math.sqrt(t.shape[0])) } : t]));
  beforeAll(async () => {
    fx = await loadFixture(64);
  });

  it('features of order 1 and few constant, where the torch formula gave ~1e-9; the linear probe no longer depends on the scale', async () => {
    const ours = initWeights(spec, undefined, 0);
    const now = featureHealth(await features(ours), 1280);
    const before = featureHealth(await features(torchFanOut(ours)), 1280);
    expect(now.scale).toBeGreaterThan(0.1);
    expect(now.constant).toBeLessThan(0.1); // measured 3.2 %: dead relu6 units
    expect(featureWarning('random', now)).toBeUndefined();
    expect(before.scale).toBeLessThan(1e-7); // measured 1.8e-9
    expect(featureWarning('random', before)).toMatch(/scale/);

    // the linear head on the tiny features and on the same features x 1e9 scores the test images alike
    const tiny = await features(torchFanOut(ours));
    const split = (s: 'train' | 'test', k = 1) => {
      const rows = splitIndices(fx, s);
      const f = new Float32Array(rows.length * 1280);
      for (const [i, r] of rows.entries()) f.set(tiny.subarray(r * 1280, (r + 1) * 1280).map((v) => v * k), i * 1280);
      return { features: f, labels: Int32Array.from(rows, (r) => fx.labels[r]) };
    };
    const z = standardiser(split('train'), 1280);
    expect(z.invStd.filter((x) => x === 1).length / 1280).toBeLessThan(0.1); // the old floor left all 1280 unscaled
    const a = trainLinearHead({ dim: 1280, train: split('train'), test: split('test'), options: { seed: 0, epochs: 5, hidden: 32 } });
    const b = trainLinearHead({ dim: 1280, train: split('train', 1e9), test: split('test', 1e9), options: { seed: 0, epochs: 5, hidden: 32 } });
    const test = split('test');
    expect(auc(test.labels, a.testProbs!)).toBeGreaterThan(0.6);
    expect(Math.abs(auc(test.labels, a.testProbs!) - auc(test.labels, b.testProbs!))).toBeLessThan(0.02);
  }, 120_000);
});
