import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { createEngine } from '@cxr-ssl/train';
import { describe, expect, it } from 'vitest';
import { scoreRow } from './evaluate.ts';
import { extractFeatures } from './extract.ts';
import { finetuneEvaluation, headProbs } from './finetune.ts';
import { PROTOCOLS } from './protocols/index.ts';
import { openEncoderSession } from './session.ts';
import { testEncoder } from './testing/encoder.ts';
import { frozenRun } from './testing/frozen-run.ts';
import { loadFixture, splitIndices } from '@cxr-ssl/data/testing';

describe('fine-tuning through the tfjs engine, on real fixture X-rays (32 px, vgg-small from random init)', () => {
  it('changes the encoder, scores the held-out split through the exported encoder, and is compared with linear', async () => {
    const fx = await loadFixture(32);
    const rows = (s: 'train' | 'test') => {
      const r = splitIndices(fx, s);
      return { rows: r, labels: r.map((i) => fx.labels[i]) };
    };
    const train = rows('train');
    const test = rows('test');
    const spec = encoderSpec('vgg-small-bn');
    const start = initWeights(spec, undefined, 1);
    const { engine } = await createEngine('tfjs');
    const ft = await finetuneEvaluation({
      engine,
      encoder: spec,
      weights: start,
      images: fx,
      train,
      test,
      options: { epochs: 8, lr: 0.05, batchSize: 16, seed: 0 },
    });
    const tuned = scoreRow(test.labels, ft.probs, { n: 200, seed: 0 });
    // the encoder moved, not only the head
    const moved = (name: string) => {
      const a = start.get(name)!.data;
      const b = ft.weights.get(name)!.data;
      return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    };
    expect(moved('features.0.weight')).toBeGreaterThan(1e-4);
    expect(ft.history).toHaveLength(8);
    // the engine's own forward on the test images agrees with ONNX features + the head in TS
    const px = fx.size * fx.size;
    const x = new Uint8Array(test.rows.length * px);
    for (const [b, r] of test.rows.entries()) x.set(fx.image(r), b * px);
    const own = await engine.evalStep({ x, y: Int32Array.from(test.labels), shape: [test.rows.length, 1, fx.size, fx.size] });
    expect(Math.abs(own.accuracy - tuned.accuracy)).toBeLessThanOrEqual(1 / test.rows.length + 1e-9);
    await engine.close();

    // linear probe on the same (frozen, random) encoder
    const { onnx } = testEncoder('vgg-small-bn', 1);
    const { session } = await openEncoderSession(onnx, { provider: 'cpu' });
    const feats = async (r: { rows: number[]; labels: number[] }) => ({ ...(await extractFeatures({ session, images: fx, indices: r.rows })), labels: r.labels });
    const ftr = await feats(train);
    const fte = await feats(test);
    const { probs } = await PROTOCOLS.linear.run(frozenRun({ dim: ftr.dim, train: ftr, test: fte }, PROTOCOLS.linear.options.parse({})));
    const lin = scoreRow(fte.labels, probs, { n: 200, seed: 0 });
    console.log(`fixture, 32 px, random-init vgg-small-bn: fine-tune acc ${tuned.accuracy.toFixed(3)} AUC ${tuned.auc.toFixed(3)}; linear acc ${lin.accuracy.toFixed(3)} AUC ${lin.auc.toFixed(3)}`);
    expect(tuned.auc).toBeGreaterThan(0.5);
    // Measured (vgg-small-bn from random init, 8 epochs of 57 images at lr 0.05): fine-tuning ranks the
    // test images better than the linear probe on the frozen random encoder (AUC 0.887 vs 0.797) but
    // its threshold is not learnt yet (accuracy 0.531 vs 0.688). Both halves are asserted, so a change
    // to either protocol that moves them shows up here.
    expect(tuned.auc).toBeGreaterThan(lin.auc);
    expect(tuned.accuracy).toBeLessThan(lin.accuracy);
  });

  it('headProbs is softmax(fc2(relu(fc1(f))))[1], by hand', () => {
    const t = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });
    const w = new Map([
      ['head.fc1.weight', t([1, 0, 0, -1], [2, 2])],
      ['head.fc1.bias', t([0, 0.5], [2])],
      ['head.fc2.weight', t([0, 0, 1, 2], [2, 2])],
      ['head.fc2.bias', t([0.25, 0], [2])],
    ]);
    // f = (2, 1): h = relu(2, -0.5) = (2, 0); logits (0.25, 2): p1 = 1 / (1 + e^(0.25 - 2))
    expect(headProbs(w, Float32Array.from([2, 1]), 2)[0]).toBeCloseTo(1 / (1 + Math.exp(-1.75)), 6);
  });
});
