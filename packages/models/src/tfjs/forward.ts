import * as tf from '@tensorflow/tfjs-core';
import { type EncoderSpec, type HeadLayer, type HeadSpec, isRgbInputNorm, type Op, PER_VIEW_EPS, type ProjectorHead, RGB_INPUT_NORMS } from '../spec.ts';

/**
 * tfjs forward passes over canonical parameters: `params` maps canonical names to tensors in
 * canonical layouts (conv OIHW, dense [out, in]), so the same Map serves training variables,
 * checkpoints and the ONNX writer. Layout conversions happen inside the graph (cheap next to
 * the convolutions, and the gradient flows through them back to the canonical variables).
 *
 * Images are NHWC, [N, H, W, 1] float32 raw pixel values 0..255 (tfjs convolutions are
 * channels-last; the ONNX model takes NCHW, which for one channel is the same memory).
 */
export type Params = Map<string, tf.Tensor>;

function param(params: Params, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`Missing weight "${name}". Initialise or load weights for this model spec.`);
  return t;
}

/** [N, H, W, 1] raw pixels -> the first conv's input: [N, H, W, 1], or [N, H, W, 3] for the RGB norms. */
function normalise(x: tf.Tensor4D, norm: EncoderSpec['inputNorm']): tf.Tensor4D {
  if (norm === 'minus1to1') return tf.sub(tf.div(x, 127.5), 1);
  if (isRgbInputNorm(norm)) {
    const { divide, mean, std } = RGB_INPUT_NORMS[norm];
    // broadcasting the one grey channel against [3] makes the three channels
    return tf.div(tf.sub(tf.div(x, divide), tf.tensor1d([...mean])), tf.tensor1d([...std]));
  }
  const mean = tf.mean(x, [1, 2, 3], true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), [1, 2, 3], true);
  return tf.div(centred, tf.sqrt(tf.add(variance, PER_VIEW_EPS)));
}

type ConvOp = Extract<Op, { op: 'conv' }>;
type BnOp = Extract<Op, { op: 'bn' }>;

/** A BatchNorm's statistics over one training batch, for the running-average update. */
export interface BatchStats {
  name: string;
  momentum: number;
  mean: tf.Tensor1D;
  /** unbiased (n / (n - 1)), as torch keeps in running_var */
  variance: tf.Tensor1D;
  /** n: the elements per channel the statistics are over (batch x height x width) */
  count?: number;
}

export interface ForwardOptions {
  /** batch statistics (training) instead of the running ones (inference, the default) */
  training?: boolean;
  /** receives each BatchNorm's batch statistics in training mode */
  onBatchStats?: (stats: BatchStats) => void;
}

/** BatchNorm over NHWC: per channel, over batch and space. */
function batchNorm(x: tf.Tensor4D, op: BnOp, params: Params, opts: ForwardOptions): tf.Tensor4D {
  const scale = param(params, `${op.name}.weight`);
  const shift = param(params, `${op.name}.bias`);
  if (!opts.training) {
    return tf.batchNorm(x, param(params, `${op.name}.running_mean`), param(params, `${op.name}.running_var`), shift, scale, op.eps) as tf.Tensor4D;
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  if (opts.onBatchStats) {
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    opts.onBatchStats({ name: op.name, momentum: op.momentum, mean: mean as tf.Tensor1D, variance: tf.mul(variance, n / Math.max(1, n - 1)) as tf.Tensor1D, count: n });
  }
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, op.eps))), scale), shift) as tf.Tensor4D;
}

function conv(x: tf.Tensor4D, op: ConvOp, params: Params): tf.Tensor4D {
  const weight = param(params, `${op.name}.weight`) as tf.Tensor4D; // [out, in/groups, k, k]
  const pad = op.pad === 'same' ? 'same' : op.pad === 0 ? 'valid' : op.pad;
  let y: tf.Tensor4D;
  if (op.groups === 1) {
    y = tf.conv2d(x, tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D, op.stride, pad);
  } else if (op.groups === op.in) {
    // depthwise: torch output channel i * mult + m  ==  tfjs depthwise channel i * mult + m
    const mult = op.out / op.in;
    const filter = tf.transpose(tf.reshape(weight, [op.in, mult, op.k, op.k]), [2, 3, 0, 1]) as tf.Tensor4D;
    y = tf.depthwiseConv2d(x, filter, op.stride, pad);
  } else {
    const xs = tf.split(x, op.groups, 3) as tf.Tensor4D[];
    const ws = tf.split(weight, op.groups, 0);
    y = tf.concat<tf.Tensor4D>(
      xs.map((xi, g) => tf.conv2d(xi, tf.transpose(ws[g], [2, 3, 1, 0]) as tf.Tensor4D, op.stride, pad)),
      3,
    );
  }
  if (!op.bias) return y;
  return tf.add(y, param(params, `${op.name}.bias`));
}

/** Runs the encoder graph: [N, H, W, 1] raw pixels -> [N, features]. */
export function encoderForward(spec: EncoderSpec, params: Params, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  const outputs = new Map<string, tf.Tensor>();
  let previous: tf.Tensor = normalise(x, spec.inputNorm);
  for (const op of spec.ops) {
    const input = (name?: string) => {
      if (name === undefined) return previous;
      const t = outputs.get(name);
      if (!t) throw new Error(`Encoder "${spec.name}": op "${op.id}" reads unknown op "${name}".`);
      return t;
    };
    let y: tf.Tensor;
    switch (op.op) {
      case 'conv':
        y = conv(input(op.input) as tf.Tensor4D, op, params);
        break;
      case 'bn':
        y = batchNorm(input(op.input) as tf.Tensor4D, op, params, opts);
        break;
      case 'relu':
        y = tf.relu(input(op.input));
        break;
      case 'relu6':
        y = tf.relu6(input(op.input));
        break;
      case 'maxpool': {
        const from = input(op.input) as tf.Tensor4D;
        if (from.shape[1] + 2 * op.pad < op.k || from.shape[2] + 2 * op.pad < op.k) {
          throw new Error(
            `Encoder "${spec.name}": input of ${x.shape[1]}x${x.shape[2]} px shrinks to ${from.shape[1]}x${from.shape[2]} before pool "${op.id}"; use larger images or patches.`,
          );
        }
        y = tf.maxPool(from, op.k, op.stride, op.pad === 0 ? 'valid' : op.pad);
        break;
      }
      case 'avgpool':
        y = tf.avgPool(input(op.input) as tf.Tensor4D, op.k, op.stride, 'valid');
        break;
      case 'add':
        y = tf.add(input(op.inputs[0]), input(op.inputs[1]));
        break;
      case 'concat':
        y = tf.concat(op.inputs.map((i) => input(i)), 3);
        break;
      case 'gap':
        y = tf.mean(input(op.input), [1, 2]);
        break;
    }
    outputs.set(op.id, y);
    previous = y;
  }
  return previous as tf.Tensor2D;
}

/** x [B, in] times a torch-layout [out, in] kernel, plus bias. */
function dense(x: tf.Tensor2D, params: Params, name: string): tf.Tensor2D {
  return tf.add(tf.matMul(x, param(params, `${name}.weight`) as tf.Tensor2D, false, true), param(params, `${name}.bias`));
}

/** [N, width] -> fc1 + relu -> fc2: a classifier's logits */
function classify(params: Params, joined: tf.Tensor2D): tf.Tensor2D {
  return dense(tf.relu(dense(joined, params, 'head.fc1')), params, 'head.fc2');
}

/** The projector head layers tfjs has (BatchNorm and cosine layers train on torch). */
export const TFJS_HEAD_LAYERS: readonly HeadLayer['layer'][] = ['dense', 'relu', 'emit'];

/** Why tfjs cannot run this head, if it cannot: the first layer kind it lacks. */
export function tfjsHeadProblem(head: HeadSpec): string | undefined {
  const missing = head.kind === 'projector' ? head.layers.find((l) => !TFJS_HEAD_LAYERS.includes(l.layer)) : undefined;
  return missing && `the tfjs engine has no "${missing.layer}" head layer (it has ${TFJS_HEAD_LAYERS.join(', ')}): train with --engine torch`;
}

/** A projector's layers on [N, width] rows. */
function projectorForward(head: ProjectorHead, params: Params, x: tf.Tensor2D): tf.Tensor2D {
  const emitted: tf.Tensor2D[] = [];
  let h = x;
  for (const layer of head.layers) {
    if (layer.layer === 'dense') h = dense(h, params, layer.name);
    else if (layer.layer === 'relu') h = tf.relu(h);
    else if (layer.layer === 'emit') emitted.push(h);
    else throw new Error(tfjsHeadProblem(head));
  }
  return emitted.length ? tf.concat([...emitted, h], 1) : h;
}

/**
 * The head's output for a pretext batch: classifier logits [B, classes], or projector embeddings
 * [B, views, width]. `x` holds [B, views, P, P] pixel values 0..255 (any numeric dtype, view-major
 * per sample as in data's Batch): every view goes through the shared encoder in one batch of
 * B * views images; a classifier joins the views with a reshape ([B * views, F] rows are
 * view-major per sample), which also keeps the gradient tape simple (tfjs's unstack gradient fails
 * when fed partial gradients).
 */
export function headOutput(encoder: EncoderSpec, head: HeadSpec, params: Params, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D | tf.Tensor3D {
  const [b, views, h, w] = x.shape;
  if (views !== head.views) throw new Error(`Batch has ${views} views per sample but the head expects ${head.views}.`);
  const pixels = tf.reshape(tf.cast(x, 'float32'), [b * views, h, w, 1]) as tf.Tensor4D;
  return headFromFeatures(head, params, encoderForward(encoder, params, pixels, opts), b);
}

/** The head's output from the encoder's features [B * views, F] (view-major per sample): see headOutput. */
export function headFromFeatures(head: HeadSpec, params: Params, feats: tf.Tensor2D, b: number): tf.Tensor2D | tf.Tensor3D {
  const views = feats.shape[0] / b;
  if (head.kind === 'projector') {
    const out = projectorForward(head, params, feats);
    return tf.reshape(out, [b, views, out.shape[1]]) as tf.Tensor3D;
  }
  const perView = head.proj ? tf.relu(dense(feats, params, 'head.proj')) : feats;
  return classify(params, tf.reshape(perView, [b, -1]) as tf.Tensor2D);
}

/** Logits of a classifier head (see headOutput). */
export function pretextLogits(encoder: EncoderSpec, head: HeadSpec, params: Params, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  if (head.kind === 'projector') throw new Error('pretextLogits: a projector head has no logits; use headOutput');
  return headOutput(encoder, head, params, x, opts) as tf.Tensor2D;
}

/** Canonical Weights -> tensors (the caller owns and disposes them). */
export function paramsFromWeights(weights: Map<string, { shape: number[]; data: Float32Array }>): Params {
  const params: Params = new Map();
  for (const [name, t] of weights) params.set(name, tf.tensor(t.data, t.shape, 'float32'));
  return params;
}
