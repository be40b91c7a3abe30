import type { Tensor } from '../spec.ts';
import type { KerasWeights } from './tfjs-layers.ts';

/**
 * Keras -> canonical layout conversions shared by the per-architecture converters.
 * Keras: conv kernels HWIO [kh, kw, in, out], depthwise kernels [kh, kw, C, multiplier].
 * Canonical (torch): OIHW [out, in/groups, kh, kw]; a depthwise conv has groups = C and output
 * channel c * multiplier + m (the order tf.nn.depthwise_conv2d and torch agree on).
 */

/**
 * The Keras weight `${layer}/${param}`. Exports of nested models sometimes prefix names with the
 * enclosing model (`model2/Conv1/kernel`), so a unique `/${layer}/${param}` suffix also matches.
 */
export function kerasWeight(weights: KerasWeights, layer: string, param: string, source = 'Keras weights'): Tensor {
  const name = `${layer}/${param}`;
  const exact = weights.get(name);
  if (exact) return exact;
  const matches = [...weights.keys()].filter((key) => key.endsWith(`/${name}`));
  if (matches.length === 1) return weights.get(matches[0]) as Tensor;
  if (matches.length > 1) throw new Error(`${source}: "${name}" is ambiguous (${matches.join(', ')}).`);
  throw new Error(`${source}: no weight "${name}". Is this the right architecture? Its weights start with: ${[...weights.keys()].slice(0, 4).join(', ')}.`);
}

function expectRank(t: Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank) throw new Error(`${what}: expected a rank-${rank} tensor, got shape [${t.shape}].`);
}

/** HWIO -> OIHW */
export function hwioToOihw(t: Tensor, what = 'conv kernel'): Tensor {
  expectRank(t, 4, what);
  const [kh, kw, cin, cout] = t.shape;
  const data = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) data[((o * cin + i) * kh + y) * kw + x] = t.data[((y * kw + x) * cin + i) * cout + o];
  return { shape: [cout, cin, kh, kw], data };
}

/** Depthwise [kh, kw, C, M] -> [C * M, 1, kh, kw] (output channel c * M + m). */
export function depthwiseToOihw(t: Tensor, what = 'depthwise kernel'): Tensor {
  expectRank(t, 4, what);
  const [kh, kw, channels, mult] = t.shape;
  const data = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let m = 0; m < mult; m++) data[((c * mult + m) * kh + y) * kw + x] = t.data[((y * kw + x) * channels + c) * mult + m];
  return { shape: [channels * mult, 1, kh, kw], data };
}

/**
 * Grey input for an RGB-trained first conv: OIHW [O, 3, kh, kw] -> [O, 1, kh, kw], summed over
 * the input channels. Convolution is linear in its input, so conv(grey replicated to RGB, W) =
 * sum_c conv(grey, W[:, c]) = conv(grey, sum_c W[:, c]): the grey model computes exactly what
 * the RGB model computes on the grey image copied into all three channels. Exact only where every
 * channel gets the same input scaling (MobileNetV2's [-1, 1]): with per-channel mean / std the
 * zero-padded borders differ per channel, so those encoders keep the RGB kernel (imagenet-input.ts).
 */
export function sumInputChannels(t: Tensor): Tensor {
  expectRank(t, 4, 'first conv kernel');
  const [cout, cin, kh, kw] = t.shape;
  const area = kh * kw;
  const data = new Float32Array(cout * area);
  for (let o = 0; o < cout; o++)
    for (let p = 0; p < area; p++) {
      let sum = 0;
      for (let i = 0; i < cin; i++) sum += t.data[(o * cin + i) * area + p];
      data[o * area + p] = sum;
    }
  return { shape: [cout, 1, kh, kw], data };
}

export interface BatchNorm {
  gamma?: Tensor;
  beta?: Tensor;
  mean: Tensor;
  variance: Tensor;
  eps: number;
}

/**
 * Folds an inference-mode BatchNormalization into the conv before it (OIHW kernel, optional bias):
 * s = gamma / sqrt(var + eps); w' = w * s (per output channel); b' = beta + (b - mean) * s.
 * Computed in float64 and rounded once to float32.
 */
export function foldBatchNorm(kernel: Tensor, bias: Tensor | undefined, bn: BatchNorm): { weight: Tensor; bias: Tensor } {
  const out = kernel.shape[0];
  const perOut = kernel.data.length / out;
  for (const [what, t] of Object.entries({ gamma: bn.gamma, beta: bn.beta, mean: bn.mean, variance: bn.variance, bias })) {
    if (t && t.data.length !== out) throw new Error(`BatchNorm fold: ${what} has ${t.data.length} values for ${out} output channels.`);
  }
  const weight = new Float32Array(kernel.data.length);
  const folded = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const scale = (bn.gamma?.data[o] ?? 1) / Math.sqrt(bn.variance.data[o] + bn.eps);
    for (let j = 0; j < perOut; j++) weight[o * perOut + j] = kernel.data[o * perOut + j] * scale;
    folded[o] = (bn.beta?.data[o] ?? 0) + ((bias?.data[o] ?? 0) - bn.mean.data[o]) * scale;
  }
  return { weight: { shape: kernel.shape, data: weight }, bias: { shape: [out], data: folded } };
}

/** The BatchNormalization layer `layer`'s parameters; gamma/beta absent when scale/center is off. */
export function kerasBatchNorm(weights: KerasWeights, layer: string, eps: number, source?: string): BatchNorm {
  const optional = (param: string) => (hasKerasWeight(weights, layer, param) ? kerasWeight(weights, layer, param, source) : undefined);
  return {
    gamma: optional('gamma'),
    beta: optional('beta'),
    mean: kerasWeight(weights, layer, 'moving_mean', source),
    variance: kerasWeight(weights, layer, 'moving_variance', source),
    eps,
  };
}

function hasKerasWeight(weights: KerasWeights, layer: string, param: string): boolean {
  const name = `${layer}/${param}`;
  return weights.has(name) || [...weights.keys()].some((key) => key.endsWith(`/${name}`));
}
