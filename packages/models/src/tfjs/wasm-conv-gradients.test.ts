import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { EncoderSpec } from '../spec.ts';
import { encoderForward } from './forward.ts';
import { setupTfjs } from './setup.ts';

/** Deterministic pseudo-random floats in [-1, 1). */
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid' | number;
}

/** d/dx and d/dw of sum(conv(x, w) * r): Conv2DBackpropInput and -Filter with a random dy. */
async function convGrads(backend: 'cpu' | 'wasm', c: Case): Promise<Float32Array[]> {
  await setupTfjs(backend);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const x = tf.tensor4d(randoms(size(c.x), 1), c.x);
    const w = tf.tensor4d(randoms(size(c.filter), 2), c.filter);
    const outShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const r = tf.tensor(randoms(size(outShape), 3), outShape);
    const f = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, c.stride, c.pad), r));
    return tf.grads(f)([x, w]).map((g) => g.dataSync() as Float32Array);
  });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('wasm convolution gradients (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  const cases: Case[] = [
    { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], stride: 1, pad: 1 },
    { x: [2, 8, 8, 3], filter: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { x: [1, 9, 7, 2], filter: [3, 3, 2, 4], stride: 2, pad: 'same' },
    { x: [3, 10, 10, 4], filter: [3, 3, 4, 2], stride: 2, pad: 'valid' },
    { x: [2, 6, 6, 8], filter: [1, 1, 8, 3], stride: 1, pad: 'valid' },
    { x: [2, 12, 12, 2], filter: [5, 5, 2, 3], stride: 3, pad: 2 },
    { x: [1, 11, 10, 3], filter: [3, 3, 3, 2], stride: 2, pad: 1 },
    { x: [2, 7, 7, 2], filter: [2, 2, 2, 3], stride: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`equal the cpu backend's: x ${c.x} filter ${c.filter} stride ${c.stride} pad ${c.pad}`, async () => {
      const cpu = await convGrads('cpu', c);
      const wasm = await convGrads('wasm', c);
      for (const [i, what] of ['dx', 'dw'].entries()) {
        expect(wasm[i].length, what).toBe(cpu[i].length);
        expect(maxAbsDiff(wasm[i], cpu[i]), what).toBeLessThan(1e-4);
        expect(Math.max(...cpu[i].map(Math.abs)), what).toBeGreaterThan(0.1); // not a trivially-zero gradient
      }
    });
  }

  it('gives grouped convolutions (split + conv) the same gradient as cpu, without leaking tensors', async () => {
    const spec = EncoderSpec.parse({
      name: 'grouped',
      channels: 1,
      inputNorm: 'per-view',
      features: 8,
      ops: [
        { op: 'conv', id: 'c0', name: 'c0', in: 1, out: 4, k: 3, pad: 1 },
        { op: 'conv', id: 'c1', name: 'c1', in: 4, out: 8, k: 3, stride: 2, pad: 'same', groups: 2 },
        { op: 'gap', id: 'gap' },
      ],
    });
    const run = async (backend: 'cpu' | 'wasm') => {
      await setupTfjs(backend);
      const before = tf.memory().numTensors;
      const grads = tf.tidy(() => {
        const params = new Map<string, tf.Tensor>([
          ['c0.weight', tf.tensor4d(randoms(36, 4), [4, 1, 3, 3])],
          ['c0.bias', tf.zeros([4])],
          ['c1.weight', tf.tensor4d(randoms(8 * 2 * 9, 5), [8, 2, 3, 3])],
          ['c1.bias', tf.zeros([8])],
        ]);
        const x = tf.tensor4d(randoms(2 * 10 * 10, 6).map((v) => 128 + 100 * v), [2, 10, 10, 1]);
        const r = tf.tensor2d(randoms(16, 7), [2, 8]);
        const names = [...params.keys()];
        return tf
          .grads((w0: tf.Tensor, w1: tf.Tensor) =>
            tf.sum(tf.mul(encoderForward(spec, new Map([...params, [names[0], w0], [names[2], w1]]), x), r)),
          )([params.get('c0.weight')!, params.get('c1.weight')!])
          .map((t) => t.dataSync() as Float32Array);
      });
      expect(tf.memory().numTensors).toBe(before);
      return grads;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < cpu.length; i++) expect(maxAbsDiff(wasm[i], cpu[i])).toBeLessThan(1e-4);
  });
});
