import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../spec.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { depthwiseToOihw, foldBatchNorm, hwioToOihw, kerasWeight, sumInputChannels } from './keras-layout.ts';

/**
 * The references are tfjs's own ops on the Keras layouts (HWIO, depthwise HWCM, tf.batchNorm);
 * the converted canonical weights run through a plain-loop NCHW convolution written here, so
 * neither side shares code with the conversions under test.
 */
/** x: [C, h, w] NCHW for one image (C implied by the weight and groups). */
function convNchw(x: Float32Array, [, h, w]: number[], weight: Tensor, bias: Tensor | undefined, groups: number): Float32Array {
  const [cout, cinPerGroup, k] = weight.shape;
  const pad = (k - 1) / 2; // stride 1, 'same' for odd k
  const outPerGroup = cout / groups;
  const y = new Float32Array(cout * h * w);
  for (let o = 0; o < cout; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        let sum = bias?.data[o] ?? 0;
        for (let i = 0; i < cinPerGroup; i++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const yy = r + ky - pad;
              const xx = c + kx - pad;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              sum += x[((g * cinPerGroup + i) * h + yy) * w + xx] * weight.data[((o * cinPerGroup + i) * k + ky) * k + kx];
            }
        y[(o * h + r) * w + c] = sum;
      }
  }
  return y;
}

const random = (shape: number[], seed: number): Tensor => ({ shape, data: tf.randomUniform(shape, -1, 1, 'float32', seed).dataSync() as Float32Array });
const nhwcToNchw = (t: tf.Tensor4D) => tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array;
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('Keras -> canonical layouts, checked against tfjs convolutions on real X-rays', () => {
  const size = 24;
  let grey: Float32Array; // one real X-ray scaled to [-1, 1]
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const [image] = await fixtureImages(1, size);
    grey = Float32Array.from(image.pixels, (v) => v / 127.5 - 1);
  });

  it('HWIO -> OIHW: a 3 -> 5 conv gives tf.conv2d output', () => {
    const hwio = random([3, 3, 3, 5], 1);
    const rgb = tf.mul(tf.tile(tf.tensor4d(grey, [1, size, size, 1]), [1, 1, 1, 3]), tf.tensor1d([1, 0.5, -0.25])) as tf.Tensor4D;
    const want = nhwcToNchw(tf.conv2d(rgb, tf.tensor4d(hwio.data, [3, 3, 3, 5]), 1, 'same'));
    const got = convNchw(nhwcToNchw(rgb), [3, size, size], hwioToOihw(hwio), undefined, 1);
    expect(hwioToOihw(hwio).shape).toEqual([5, 3, 3, 3]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it('depthwise [k, k, C, M] -> [C*M, 1, k, k] with groups C gives tf.depthwiseConv2d output (multiplier 2)', () => {
    const kernel = random([3, 3, 4, 2], 2);
    const x = tf.mul(tf.tile(tf.tensor4d(grey, [1, size, size, 1]), [1, 1, 1, 4]), tf.tensor1d([1, -1, 0.3, 2])) as tf.Tensor4D;
    const want = nhwcToNchw(tf.depthwiseConv2d(x, tf.tensor4d(kernel.data, [3, 3, 4, 2]), 1, 'same'));
    const got = convNchw(nhwcToNchw(x), [4, size, size], depthwiseToOihw(kernel), undefined, 4);
    expect(depthwiseToOihw(kernel).shape).toEqual([8, 1, 3, 3]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it('folding BatchNorm (eps 1e-3) into the conv gives tf.batchNorm(conv) output', () => {
    const hwio = random([3, 3, 1, 6], 3);
    const gamma = random([6], 4);
    const beta = random([6], 5);
    const mean = random([6], 6);
    const variance = { shape: [6], data: (random([6], 7).data as Float32Array).map((v) => v * v * 3 + 0.01) };
    const x = tf.tensor4d(grey, [1, size, size, 1]);
    const bn = tf.batchNorm(tf.conv2d(x, tf.tensor4d(hwio.data, [3, 3, 1, 6]), 1, 'same'), mean.data, variance.data, beta.data, gamma.data, 1e-3);
    const folded = foldBatchNorm(hwioToOihw(hwio), undefined, { gamma, beta, mean, variance, eps: 1e-3 });
    const got = convNchw(grey, [1, size, size], folded.weight, folded.bias, 1);
    expect(maxAbsDiff(got, nhwcToNchw(bn as tf.Tensor4D))).toBeLessThan(1e-4);
  });

  it('summing the first conv over RGB on grey equals the RGB conv on the grey image replicated to 3 channels', () => {
    const hwio = random([3, 3, 3, 8], 8);
    const replicated = tf.tile(tf.tensor4d(grey, [1, size, size, 1]), [1, 1, 1, 3]) as tf.Tensor4D;
    const want = nhwcToNchw(tf.conv2d(replicated, tf.tensor4d(hwio.data, [3, 3, 3, 8]), 1, 'same'));
    const summed = sumInputChannels(hwioToOihw(hwio));
    expect(summed.shape).toEqual([8, 1, 3, 3]);
    const got = convNchw(grey, [1, size, size], summed, undefined, 1);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    // and it is not the same as using one channel alone: the sum matters
    const redOnly = convNchw(grey, [1, size, size], { shape: [8, 1, 3, 3], data: hwioToOihw(hwio).data.filter((_, i) => Math.floor(i / 9) % 3 === 0) }, undefined, 1);
    expect(maxAbsDiff(redOnly, want)).toBeGreaterThan(0.1);
  });

  it('finds weights under a nested-model prefix and names the missing one otherwise', () => {
    const t = random([2], 9);
    const weights = new Map([['model2/Conv1/kernel', t], ['bn_Conv1/gamma', t]]);
    expect(kerasWeight(weights, 'Conv1', 'kernel')).toBe(t);
    expect(() => kerasWeight(weights, 'Conv_1', 'kernel', 'x.json')).toThrow(/x\.json: no weight "Conv_1\/kernel"/);
  });
});
