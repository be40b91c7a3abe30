import { createRng, shuffleInPlace } from '@cxr-ssl/data';
import { z } from 'zod';
import { headEpochs, headHidden, int, num } from './option-fields.ts';

/**
 * The study's linear evaluation head: frozen encoder features -> dense(hidden) + ReLU -> dense(2),
 * softmax cross-entropy, trained for a few epochs. Pure TypeScript on Float32Arrays: at these
 * sizes (F <= 512, a few hundred hidden units) a batched loop is fast enough and bit-deterministic per seed.
 *
 * Optimiser: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), batch 64, no weight decay by default.
 * The study only says "2 dense layers, 10 epochs"; Adam at 1e-3 converges within 10 epochs on
 * standardised features for every encoder we compare (random-init included), so the comparison
 * measures the features, not how well an SGD schedule suits each one.
 * Features are standardised with the train split's per-feature mean and std.
 * The final epoch's weights are used (no early stopping on val, as in the study); val loss and
 * accuracy per epoch are reported so over-fitting is visible.
 */
export const LinearOptions = z
  .object({
    hidden: headHidden().describe('hidden units of the 2-layer head'),
    epochs: headEpochs().describe('epochs of the head'),
    batchSize: int().positive().default(64).describe("the head's batch"),
    lr: num().positive().default(1e-3).describe("the head's Adam learning rate"),
    weightDecay: num().min(0).default(0).describe("the head's weight decay"),
    seed: int().default(0).describe("the head's seed"),
  })
  .strict();
export type LinearOptions = z.input<typeof LinearOptions>;

/** Features of one split: `features` is rows x dim, row-major; labels 0 (normal) / 1 (abnormal). */
export interface FeatureSplit {
  features: Float32Array;
  labels: ArrayLike<number>;
}

export interface EpochLog {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface LinearHead {
  dim: number;
  hidden: number;
  mean: Float32Array;
  /** per-feature 1/std (1 where a feature is constant on the train split) */
  invStd: Float32Array;
  w1: Float32Array; // [hidden, dim]
  b1: Float32Array; // [hidden]
  w2: Float32Array; // [2, hidden]
  b2: Float32Array; // [2]
}

export interface LinearResult {
  head: LinearHead;
  history: EpochLog[];
  /** P(abnormal) per test row, when a test split was given */
  testProbs?: Float32Array;
}

function checkSplit(split: FeatureSplit, dim: number, name: string): number {
  const rows = split.labels.length;
  if (split.features.length !== rows * dim) {
    throw new Error(
      `${name} split: ${split.features.length} feature values for ${rows} labels x dim ${dim}; ` +
        'features and labels must describe the same rows',
    );
  }
  for (let i = 0; i < rows; i++) {
    const y = split.labels[i];
    if (y !== 0 && y !== 1) throw new Error(`${name} split: label ${y} at row ${i}; expected 0 or 1`);
  }
  for (let i = 0; i < split.features.length; i++) {
    if (!Number.isFinite(split.features[i])) {
      throw new Error(`${name} split: non-finite feature at row ${Math.floor(i / dim)}; re-extract the features`);
    }
  }
  return rows;
}

export interface Standardiser {
  mean: Float32Array;
  invStd: Float32Array;
}

/** Per-feature mean and 1/std of a split (1 where a feature is constant). */
export function standardiser(train: FeatureSplit, dim: number): Standardiser {
  const rows = train.labels.length;
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) sum[j] += train.features[o + j];
  }
  const mean = new Float32Array(dim);
  for (let j = 0; j < dim; j++) mean[j] = sum[j] / rows;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) {
      const d = train.features[o + j] - mean[j];
      sq[j] += d * d;
    }
  }
  const invStd = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const std = Math.sqrt(sq[j] / rows);
    invStd[j] = std > 1e-8 ? 1 / std : 1;
  }
  return { mean, invStd };
}

/** PyTorch nn.Linear default init: U(-1/sqrt(in), 1/sqrt(in)) for weights and biases. */
function uniformInit(n: number, fanIn: number, rng: { next(): number }): Float32Array {
  const a = new Float32Array(n);
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound;
  return a;
}

/** sum_j a[ao + j] * b[bo + j], four partial sums (the JIT keeps them in registers). */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < n; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** y[yo + j] += alpha * x[xo + j] for j < n. */
function axpy(alpha: number, x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    y[yo + j] += alpha * x[xo + j];
    y[yo + j + 1] += alpha * x[xo + j + 1];
    y[yo + j + 2] += alpha * x[xo + j + 2];
    y[yo + j + 3] += alpha * x[xo + j + 3];
  }
  for (; j < n; j++) y[yo + j] += alpha * x[xo + j];
}

/** Work buffers for one batch, reused across batches. */
interface Scratch {
  x: Float32Array; // [B, dim] standardised
  z1: Float32Array; // [B, hidden] pre-activation, then ReLU output in a1
  a1: Float32Array;
  p: Float32Array; // [B, 2] softmax
}

function scratch(batch: number, dim: number, hidden: number): Scratch {
  return {
    x: new Float32Array(batch * dim),
    z1: new Float32Array(batch * hidden),
    a1: new Float32Array(batch * hidden),
    p: new Float32Array(batch * 2),
  };
}

/** Forward `rows` (indices into split) into s.p; returns summed loss and number correct. */
function forward(
  h: LinearHead,
  split: FeatureSplit,
  rows: ArrayLike<number>,
  start: number,
  count: number,
  s: Scratch,
): { loss: number; correct: number } {
  const { dim, hidden, mean, invStd, w1, b1, w2, b2 } = h;
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < count; b++) {
    const r = rows[start + b];
    const src = r * dim;
    const xo = b * dim;
    for (let j = 0; j < dim; j++) s.x[xo + j] = (split.features[src + j] - mean[j]) * invStd[j];
    const zo = b * hidden;
    for (let k = 0; k < hidden; k++) {
      const acc = b1[k] + dot(s.x, xo, w1, k * dim, dim);
      s.z1[zo + k] = acc;
      s.a1[zo + k] = Math.max(acc, 0);
    }
    let l0 = b2[0];
    let l1 = b2[1];
    for (let k = 0; k < hidden; k++) {
      const a = s.a1[zo + k];
      l0 += a * w2[k];
      l1 += a * w2[hidden + k];
    }
    const m = Math.max(l0, l1);
    const lse = m + Math.log(Math.exp(l0 - m) + Math.exp(l1 - m));
    const p1 = Math.exp(l1 - lse);
    s.p[b * 2] = 1 - p1;
    s.p[b * 2 + 1] = p1;
    const y = split.labels[r];
    loss += lse - (y === 1 ? l1 : l0);
    if ((l1 > l0 ? 1 : 0) === y) correct++;
  }
  return { loss, correct };
}

/** Adam state for one parameter tensor. */
class AdamSlot {
  readonly m: Float32Array;
  readonly v: Float32Array;
  constructor(
    readonly param: Float32Array,
    readonly grad: Float32Array,
  ) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }
  step(lr: number, t: number, weightDecay: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const { param, grad, m, v } = this;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] + weightDecay * param[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      param[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
    }
  }
}

/** P(abnormal) for every row of `split`. */
export function predictProba(head: LinearHead, split: FeatureSplit, batchSize = 256): Float32Array {
  const rows = checkSplit(split, head.dim, 'predict');
  const out = new Float32Array(rows);
  const s = scratch(batchSize, head.dim, head.hidden);
  const idx = Int32Array.from({ length: rows }, (_, i) => i);
  for (let start = 0; start < rows; start += batchSize) {
    const count = Math.min(batchSize, rows - start);
    forward(head, split, idx, start, count, s);
    for (let b = 0; b < count; b++) out[start + b] = s.p[b * 2 + 1];
  }
  return out;
}

function evaluateSplit(head: LinearHead, split: FeatureSplit): { loss: number; accuracy: number } {
  const rows = split.labels.length;
  const s = scratch(256, head.dim, head.hidden);
  const idx = Int32Array.from({ length: rows }, (_, i) => i);
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < rows; start += 256) {
    const r = forward(head, split, idx, start, Math.min(256, rows - start), s);
    loss += r.loss;
    correct += r.correct;
  }
  return { loss: loss / rows, accuracy: correct / rows };
}

export interface TrainLinearInput {
  dim: number;
  train: FeatureSplit;
  val?: FeatureSplit;
  test?: FeatureSplit;
  options?: LinearOptions;
  onEpoch?: (log: EpochLog) => void;
}

export function trainLinearHead(input: TrainLinearInput): LinearResult {
  const opts = LinearOptions.parse(input.options ?? {});
  const { dim } = input;
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`trainLinearHead: dim must be a positive integer, got ${dim}`);
  const n = checkSplit(input.train, dim, 'train');
  if (n === 0) throw new Error('trainLinearHead: the train split is empty');
  if (input.val) checkSplit(input.val, dim, 'val');
  if (input.test) checkSplit(input.test, dim, 'test');

  const rng = createRng(opts.seed);
  const H = opts.hidden;
  const head: LinearHead = {
    dim,
    hidden: H,
    ...standardiser(input.train, dim),
    w1: uniformInit(H * dim, dim, rng),
    b1: uniformInit(H, dim, rng),
    w2: uniformInit(2 * H, H, rng),
    b2: uniformInit(2, H, rng),
  };
  const g = {
    w1: new Float32Array(H * dim),
    b1: new Float32Array(H),
    w2: new Float32Array(2 * H),
    b2: new Float32Array(2),
  };
  const slots = [
    new AdamSlot(head.w1, g.w1),
    new AdamSlot(head.b1, g.b1),
    new AdamSlot(head.w2, g.w2),
    new AdamSlot(head.b2, g.b2),
  ];
  const B = opts.batchSize;
  const s = scratch(B, dim, H);
  const dz1 = new Float32Array(B * H);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const history: EpochLog[] = [];
  let t = 0;

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    shuffleInPlace(order, rng);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += B) {
      const count = Math.min(B, n - start);
      const f = forward(head, input.train, order, start, count, s);
      lossSum += f.loss;
      correct += f.correct;
      // backward of the batch-mean cross-entropy
      for (const a of Object.values(g)) a.fill(0);
      for (let b = 0; b < count; b++) {
        const y = input.train.labels[order[start + b]];
        const d0 = (s.p[b * 2] - (y === 0 ? 1 : 0)) / count;
        const d1 = (s.p[b * 2 + 1] - (y === 1 ? 1 : 0)) / count;
        g.b2[0] += d0;
        g.b2[1] += d1;
        const zo = b * H;
        for (let k = 0; k < H; k++) {
          const a = s.a1[zo + k];
          g.w2[k] += d0 * a;
          g.w2[H + k] += d1 * a;
          dz1[zo + k] = s.z1[zo + k] > 0 ? d0 * head.w2[k] + d1 * head.w2[H + k] : 0;
        }
      }
      for (let b = 0; b < count; b++) {
        const zo = b * H;
        const xo = b * dim;
        for (let k = 0; k < H; k++) {
          const d = dz1[zo + k];
          if (d === 0) continue;
          g.b1[k] += d;
          axpy(d, s.x, xo, g.w1, k * dim, dim);
        }
      }
      t++;
      for (const slot of slots) slot.step(opts.lr, t, opts.weightDecay);
    }
    const log: EpochLog = { epoch, trainLoss: lossSum / n, trainAccuracy: correct / n };
    if (input.val && input.val.labels.length > 0) {
      const v = evaluateSplit(head, input.val);
      log.valLoss = v.loss;
      log.valAccuracy = v.accuracy;
    }
    history.push(log);
    input.onEpoch?.(log);
  }
  const result: LinearResult = { head, history };
  if (input.test) result.testProbs = predictProba(head, input.test);
  return result;
}
