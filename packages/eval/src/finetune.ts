import { type Batch, createRng, deriveSeed, shuffleInPlace } from '@cxr-ssl/data';
import { type EncoderSpec, type HeadSpec, type Weights, initWeights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import type { Engine } from '@cxr-ssl/train';
import { z } from 'zod';
import { headEpochs, headHidden, int, num } from './option-fields.ts';
import { type ImageSource, extractFeatures } from './extract.ts';
import type { EpochLog } from './linear.ts';
import type { LabelledRows } from './protocols/protocol.ts';
import { openEncoderSession } from './session.ts';

/**
 * Fine-tuning: the encoder unfrozen together with a dense(hidden) + ReLU -> dense(2) head, trained
 * on the labelled images through a training engine (torch or tfjs) with the engines' SGD with
 * momentum, lr decayed by `decay` per epoch. No augmentation (a mirrored chest X-ray is another
 * anatomy). The final epoch is scored, as in the linear protocol.
 */
export const FinetuneOptions = z
  .object({
    epochs: headEpochs().describe('fine-tuning epochs'),
    lr: num().positive().default(0.01).describe('SGD learning rate of encoder and head'),
    momentum: num().min(0).max(1).default(0.9).describe('SGD momentum'),
    decay: num().positive().max(1).default(0.9).describe('lr factor per epoch'),
    weightDecay: num().min(0).default(0).describe('SGD weight decay'),
    batchSize: int().positive().default(32).describe('fine-tuning batch'),
    hidden: headHidden().describe("hidden units of the head on the encoder"),
    seed: int().default(0).describe("the head's seed and the batch order"),
  })
  .strict();
export type FinetuneOptions = z.input<typeof FinetuneOptions>;

export interface FinetuneInput {
  engine: Engine;
  encoder: EncoderSpec;
  /** encoder weights to start from (canonical names; anything else is ignored) */
  weights: Weights;
  images: ImageSource;
  train: LabelledRows;
  val?: LabelledRows;
  options?: FinetuneOptions;
  /** classes of the softmax head (default 2: normal, abnormal); labels are class indices */
  classes?: number;
  onEpoch?: (log: EpochLog) => void;
  /** after every update: `done` of `total` updates (progress bars) with the batch's loss and accuracy */
  onStep?: (p: { done: number; total: number; epoch: number; loss: number; accuracy: number }) => void;
}

/** Updates one fine-tuning epoch makes: full batches, and a last one unless it would hold one image. */
export function finetuneStepsPerEpoch(n: number, batchSize: number): number {
  const full = Math.floor(n / batchSize);
  const rest = n - full * batchSize;
  return full + (rest >= 2 || (rest === 1 && n < 2) ? 1 : 0);
}

export function finetuneHead(hidden: number, classes = 2): HeadSpec {
  return { kind: 'classifier', views: 1, hidden, classes };
}

function batchOf(images: ImageSource, rows: ArrayLike<number>, labels: ArrayLike<number>, order: ArrayLike<number>, start: number, count: number): Batch {
  const px = images.size * images.size;
  const x = new Uint8Array(count * px);
  const y = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    const k = order[start + b];
    x.set(images.image(rows[k]), b * px);
    y[b] = labels[k];
  }
  return { x, y, shape: [count, 1, images.size, images.size] };
}

/** Trains encoder + head on the labelled rows; returns the final weights (encoder and head.*). */
export async function finetune(input: FinetuneInput): Promise<{ weights: Weights; history: EpochLog[] }> {
  const o = FinetuneOptions.parse(input.options ?? {});
  const { engine, encoder, images, train } = input;
  const n = train.rows.length;
  if (n === 0) throw new Error('finetune: the train split is empty');
  if (train.labels.length !== n) throw new Error(`finetune: ${n} train rows but ${train.labels.length} labels`);
  const head = finetuneHead(o.hidden, input.classes ?? 2);
  const weights = initWeights(encoder, head, o.seed);
  for (const [name, t] of input.weights) {
    const want = weights.get(name);
    if (!want) continue;
    if (want.shape.join('x') !== t.shape.join('x')) throw new Error(`finetune: weight ${name} has shape ${t.shape.join('x')}, ${encoder.name} needs ${want.shape.join('x')}`);
    weights.set(name, t);
  }
  await engine.init({ encoder, head, weights, optimizer: { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay }, seed: o.seed });
  const history: EpochLog[] = [];
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const total = o.epochs * finetuneStepsPerEpoch(n, o.batchSize);
  let done = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    shuffleInPlace(order, createRng(deriveSeed(o.seed, epoch)));
    const lr = o.lr * o.decay ** (epoch - 1);
    let loss = 0;
    let correct = 0;
    let trained = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const count = Math.min(o.batchSize, n - start);
      if (count < 2 && n >= 2) break; // a batch of one has no batch statistics for BatchNorm (shuffled: a different image each epoch)
      const r = await engine.trainStep(batchOf(images, train.rows, train.labels, order, start, count), { lr: lr });
      if (!Number.isFinite(r.loss)) throw new Error(`finetune: loss became ${r.loss} in epoch ${epoch}; lower the fine-tuning lr (now ${o.lr})`);
      loss += r.loss * count;
      correct += r.accuracy * count;
      trained += count;
      input.onStep?.({ done: ++done, total, epoch, loss: r.loss, accuracy: r.accuracy });
    }
    const log: EpochLog = { epoch, trainLoss: loss / trained, trainAccuracy: correct / trained };
    // the val split is scored after the last epoch only: a forward pass over it every epoch would
    // cost more than the training itself at small label fractions
    if (epoch === o.epochs && input.val && input.val.rows.length > 0) {
      const v = input.val;
      const vOrder = Int32Array.from({ length: v.rows.length }, (_, i) => i);
      let vl = 0;
      let vc = 0;
      for (let start = 0; start < v.rows.length; start += o.batchSize) {
        const count = Math.min(o.batchSize, v.rows.length - start);
        const r = await engine.evalStep(batchOf(images, v.rows, v.labels, vOrder, start, count));
        vl += r.loss * count;
        vc += r.accuracy * count;
      }
      log.valLoss = vl / v.rows.length;
      log.valAccuracy = vc / v.rows.length;
    }
    history.push(log);
    input.onEpoch?.(log);
  }
  return { weights: (await engine.state()).weights, history };
}

/** The softmax over the classes from encoder features through the fine-tuned head (fc1 + ReLU, fc2), rows x classes. */
export function headOutputs(weights: Weights, features: Float32Array, dim: number): Float32Array {
  const get = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`headProbs: weight ${name} missing`);
    return t.data;
  };
  const w1 = get('head.fc1.weight');
  const b1 = get('head.fc1.bias');
  const w2 = get('head.fc2.weight');
  const b2 = get('head.fc2.bias');
  const hidden = b1.length;
  const C = b2.length;
  if (w1.length !== hidden * dim) throw new Error(`headProbs: head.fc1 takes ${w1.length / hidden} features, the encoder gives ${dim}`);
  const rows = features.length / dim;
  const out = new Float32Array(rows * C);
  const a = new Float64Array(hidden);
  const l = new Float64Array(C);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < hidden; k++) {
      let s = b1[k];
      for (let j = 0; j < dim; j++) s += w1[k * dim + j] * features[r * dim + j];
      a[k] = Math.max(s, 0);
    }
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      l[c] = b2[c];
      for (let k = 0; k < hidden; k++) l[c] += w2[c * hidden + k] * a[k];
      m = Math.max(m, l[c]);
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(l[c] - m);
    for (let c = 0; c < C; c++) out[r * C + c] = Math.exp(l[c] - m) / sum;
  }
  return out;
}

/** P(abnormal) from encoder features through a fine-tuned binary head. */
export function headProbs(weights: Weights, features: Float32Array, dim: number): Float32Array {
  const all = headOutputs(weights, features, dim);
  const rows = features.length / dim;
  const C = all.length / rows;
  if (C !== 2) throw new Error(`headProbs: the head has ${C} classes, not normal vs abnormal; use headOutputs`);
  return Float32Array.from({ length: rows }, (_, r) => all[r * 2 + 1]);
}

export interface FinetuneEvaluationInput extends FinetuneInput {
  test: LabelledRows;
  provider?: 'auto' | 'cpu' | 'cuda';
}

/**
 * Fine-tunes, exports the tuned encoder with the project's ONNX writer, extracts the test
 * features with onnxruntime and applies the tuned head to them: the same scoring path as the
 * frozen protocols, and no engine API beyond init/trainStep/evalStep/state.
 */
export async function finetuneEvaluation(
  input: FinetuneEvaluationInput,
): Promise<{ probs: Float32Array; outputs: Float32Array; valOutputs?: Float32Array; history: EpochLog[]; weights: Weights }> {
  const tuned = await finetune(input);
  const encoderOnly = new Map([...tuned.weights].filter(([name]) => !name.startsWith('head.')));
  const { session } = await openEncoderSession(encoderOnnx(input.encoder, encoderOnly), { provider: input.provider ?? 'cpu' });
  const scored = async (rows: number[]) => {
    const f = await extractFeatures({ session, images: input.images, indices: rows });
    return headOutputs(tuned.weights, f.features, f.dim);
  };
  try {
    const outputs = await scored(input.test.rows);
    const valOutputs = input.val && input.val.rows.length > 0 ? await scored(input.val.rows) : undefined;
    const C = input.classes ?? 2;
    const probs = C === 2 ? Float32Array.from({ length: outputs.length / 2 }, (_, r) => outputs[r * 2 + 1]) : outputs;
    return { probs, outputs, ...(valOutputs ? { valOutputs } : {}), history: tuned.history, weights: tuned.weights };
  } finally {
    await session.release?.();
  }
}
