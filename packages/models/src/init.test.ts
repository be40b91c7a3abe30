import { describe, expect, it } from 'vitest';
import { encoderSpec } from './encoders/index.ts';
import { initWeights } from './init.ts';
import { headSpec } from './tasks/index.ts';

/** byte equality: toEqual on million-element arrays is slow */
const same = (a?: Float32Array, b?: Float32Array) => !!a && !!b && Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

const stats = (d: Float32Array) => {
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length;
  return { mean, std: Math.sqrt(variance) };
};

describe('initWeights', () => {
  const enc = encoderSpec('vgg-small');
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

  it('follows torchvision: kaiming fan_out convs, normal(0, 0.01) dense, zero bias', () => {
    const w = initWeights(enc, head, 1);
    // features.7: 64 -> 64 convs, fan_out = 64 * 3 * 3
    const conv = stats(w.get('features.7.weight')!.data);
    expect(conv.mean).toBeCloseTo(0, 2);
    expect(conv.std / Math.sqrt(2 / (64 * 9))).toBeGreaterThan(0.97);
    expect(conv.std / Math.sqrt(2 / (64 * 9))).toBeLessThan(1.03);
    const dense = stats(w.get('head.fc1.weight')!.data);
    expect(dense.std).toBeGreaterThan(0.0097);
    expect(dense.std).toBeLessThan(0.0103);
    expect(w.get('features.7.bias')!.data.every((v) => v === 0)).toBe(true);
    expect(w.get('head.fc2.bias')!.data.every((v) => v === 0)).toBe(true);
  });
});
