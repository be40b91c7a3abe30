import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { encoderSpec } from './encoders/index.ts';
import { initWeights } from './init.ts';
import { headSpec } from './tasks/index.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { paramsFromWeights, pretextLogits } from './tfjs/forward.ts';
import { setupTfjs } from './tfjs/setup.ts';

/** byte equality: toEqual on million-element arrays is slow */
const same = (a?: Float32Array, b?: Float32Array) => !!a && !!b && Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

const stats = (d: Float32Array) => {
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length;
  return { mean, std: Math.sqrt(variance), maxAbs: d.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
};

describe('initWeights', () => {
  const enc = encoderSpec('vgg-small-bn');
  const head = headSpec('rotation', enc);

  it('is deterministic for a seed and differs across seeds', () => {
    const a = initWeights(enc, head, 7);
    const b = initWeights(enc, head, 7);
    const c = initWeights(enc, head, 8);
    for (const [name, t] of a) expect(same(b.get(name)?.data, t.data)).toBe(true);
    expect(same(c.get('features.0.weight')?.data, a.get('features.0.weight')?.data)).toBe(false);
  });

  it('keeps encoder weights unchanged whether or not a head is added', () => {
    const withHead = initWeights(enc, head, 3);
    const alone = initWeights(enc, undefined, 3);
    expect([...alone.keys()].every((k) => !k.startsWith('head.'))).toBe(true);
    for (const [name, t] of alone) expect(same(withHead.get(name)?.data, t.data)).toBe(true);
  });

  it('follows PyTorch: kaiming fan_out convs, BN (1, 0, 0, 1), nn.Linear fan-in uniform weight and bias', () => {
    const w = initWeights(enc, head, 1);
    // features.10: 64 -> 64 conv, fan_out = 64 * 3 * 3
    const conv = stats(w.get('features.10.weight')!.data);
    expect(conv.std / Math.sqrt(2 / (64 * 9))).toBeGreaterThan(0.97);
    expect(conv.std / Math.sqrt(2 / (64 * 9))).toBeLessThan(1.03);
    expect(w.get('features.10.bias')!.data.every((v) => v === 0)).toBe(true);
    expect(w.get('features.11.weight')!.data.every((v) => v === 1)).toBe(true);
    expect(w.get('features.11.running_var')!.data.every((v) => v === 1)).toBe(true);
    expect(w.get('features.11.running_mean')!.data.every((v) => v === 0)).toBe(true);
    // head.fc1: 256 -> 256, U(-1/16, 1/16): std = bound / sqrt(3)
    for (const name of ['head.fc1.weight', 'head.fc1.bias']) {
      const s = stats(w.get(name)!.data);
      expect(s.maxAbs).toBeLessThanOrEqual(1 / 16);
      expect(s.std / (1 / 16 / Math.sqrt(3))).toBeGreaterThan(0.85);
      expect(s.std / (1 / 16 / Math.sqrt(3))).toBeLessThan(1.15);
    }
  });

  it("counts a grouped conv's fan-out per group: MobileNetV2's depthwise kernels get sqrt(2 / 9), not torch's sqrt(2 / (9 x channels))", () => {
    const w = initWeights(encoderSpec('mobilenetv2-0.35'), undefined, 0);
    // block_16_depthwise: 336 channels, groups 336, 3 x 3
    const dw = w.get('block_16_depthwise.weight')!;
    expect(dw.shape).toEqual([336, 1, 3, 3]);
    expect(stats(dw.data).std / Math.sqrt(2 / 9)).toBeGreaterThan(0.97);
    expect(stats(dw.data).std / Math.sqrt(2 / 9)).toBeLessThan(1.03);
    // an ungrouped 1 x 1 conv keeps torchvision's fan-out: block_16_project 336 -> 112
    expect(stats(w.get('block_16_project.weight')!.data).std / Math.sqrt(2 / 112)).toBeGreaterThan(0.97);
    expect(stats(w.get('block_16_project.weight')!.data).std / Math.sqrt(2 / 112)).toBeLessThan(1.03);
  });

  // What matters for learning is the scale of the logits: torchvision's N(0, 0.01) dense init on
  // an unnormalised VGG gave logits ~3e-4 and no gradient to the convolutions.
  it('gives rotation logits of order 0.1 on real X-rays (vgg-small-bn and resnet18, training-mode BN)', async () => {
    await setupTfjs('wasm');
    const images = await fixtureImages(16, 64);
    const x = new Float32Array(16 * 64 * 64);
    for (const [i, img] of images.entries()) x.set(img.pixels, i * 64 * 64);
    for (const name of ['vgg-small-bn', 'resnet18']) {
      const encoder = encoderSpec(name);
      const h = headSpec('rotation', encoder);
      const params = paramsFromWeights(initWeights(encoder, h, 0));
      const logits = tf.tidy(() => pretextLogits(encoder, h, params, tf.tensor4d(x, [16, 1, 64, 64]), { training: true }).dataSync() as Float32Array);
      for (const t of params.values()) t.dispose();
      const s = stats(logits);
      expect(s.std, name).toBeGreaterThan(0.1); // measured 0.25 (vgg-small-bn), 0.35 (resnet18); N(0, 0.01) heads gave 0.02-0.04
      expect(s.std, name).toBeLessThan(3);
    }
  });
});
