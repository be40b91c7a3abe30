import { createRng, shuffleInPlace } from '@cxr-ssl/data';
import { z } from 'zod';
import { headEpochs, headHidden, int, num } from './option-fields.ts';

/**
 * The study's linear evaluation head: frozen encoder features -> dense(hidden) + ReLU -> dense(2),
 * softmax cross-entropy, trained for a few epochs. Other targets widen the last layer: dense(C) and
 * softmax for one of C classes per image, dense(F) and a sigmoid (binary cross-entropy) per finding
 * for several findings per image (`HeadKind`). Pure TypeScript on Float32Arrays: at these
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

/**
 * Features of one split: `features` is rows x dim, row-major. `labels`: a class index per row
 * (0 normal / 1 abnormal for the study's task), or, for a sigmoid head, rows x outputs 0/1 row-major.
 */
export interface FeatureSplit {
  features: Float32Array;
  labels: ArrayLike<number>;
}

/** The head's last layer: a softmax over `classes` (one per image) or a sigmoid per output (several per image). */
export type HeadKind = { kind: 'softmax'; classes: number } | { kind: 'sigmoid'; outputs: number };
export const BINARY_HEAD: HeadKind = { kind: 'softmax', classes: 2 };
const widthOf = (k: HeadKind) => (k.kind === 'softmax' ? k.classes : k.outputs);

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
  kind: HeadKind;
  /** logits: the softmax's classes or the sigmoid's outputs */
  outputs: number;
  mean: Float32Array;
  /** per-feature 1/std (1 where a feature is constant on the train split) */
  invStd: Float32Array;
  w1: Float32Array; // [hidden, dim]
  b1: Float32Array; // [hidden]
  w2: Float32Array; // [outputs, hidden]
  b2: Float32Array; // [outputs]
}

export interface LinearResult {
  head: LinearHead;
  history: EpochLog[];
  /** P(abnormal) per test row, when a test split was given to a binary head */
  testProbs?: Float32Array;
  /** the head's probabilities per test row (softmax over the classes, or a sigmoid per output), rows x outputs */
  testOutputs?: Float32Array;
  /** the same for the val split, when one was given */
  valOutputs?: Float32Array;
}

function checkSplit(split: FeatureSplit, dim: number, name: string, kind: HeadKind = BINARY_HEAD): number {
  const perRow = kind.kind === 'sigmoid' ? kind.outputs : 1;
  const rows = split.labels.length / perRow;
  if (!Number.isInteger(rows) || split.features.length !== rows * dim) {
    throw new Error(
      `${name} split: ${split.features.length} feature values for ${split.labels.length} labels${perRow > 1 ? ` (${perRow} per row)` : ''} x dim ${dim}; ` +
        'features and labels must describe the same rows',
    );
  }
  const top = kind.kind === 'softmax' ? kind.classes - 1 : 1;
  for (let i = 0; i < split.labels.length; i++) {
    const y = split.labels[i];
    if (!Number.isInteger(y) || y < 0 || y > top) throw new Error(`${name} split: label ${y} at row ${Math.floor(i / perRow)}; expected 0${top === 1 ? ' or 1' : ` to ${top}`}`);
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

/**
 * A feature whose spread across the train rows is below this share of the features' overall scale
 * (their root mean square) is constant as far as float32 can tell: it is left unscaled. Relative, so
 * an encoder whose features are all tiny (a random MobileNetV2 without BatchNorm gives ~1e-8) is
 * still standardised.
 */
export const CONSTANT_FEATURE = 1e-6;

/** Per-feature mean and 1/std of a split (1 where a feature is constant, see CONSTANT_FEATURE). */
export function standardiser(train: FeatureSplit, dim: number): Standardiser {
  const rows = train.features.length / dim;
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
  let all = 0;
  for (let i = 0; i < train.features.length; i++) all += train.features[i] * train.features[i];
  const floor = CONSTANT_FEATURE * Math.sqrt(all / Math.max(1, train.features.length));
  const invStd = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const std = Math.sqrt(sq[j] / rows);
    invStd[j] = std > floor && std > 0 ? 1 / std : 1;
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
  p: Float32Array; // [B, outputs] softmax or sigmoids
  l: Float64Array; // [outputs] one row's logits
}

function scratch(batch: number, dim: number, hidden: number, outputs: number): Scratch {
  return {
    x: new Float32Array(batch * dim),
    z1: new Float32Array(batch * hidden),
    a1: new Float32Array(batch * hidden),
    p: new Float32Array(batch * outputs),
    l: new Float64Array(outputs),
  };
}

/** ln(1 + e^x) without overflow. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Forward `rows` (indices into split) into s.p; returns summed loss and the number right (a sigmoid head: the share of its outputs right, summed over rows). */
function forward(
  h: LinearHead,
  split: FeatureSplit,
  rows: ArrayLike<number>,
  start: number,
  count: number,
  s: Scratch,
): { loss: number; correct: number } {
  const { dim, hidden, mean, invStd, w1, b1, w2, b2, outputs: C } = h;
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
    for (let c = 0; c < C; c++) {
      let l = b2[c];
      for (let k = 0; k < hidden; k++) l += s.a1[zo + k] * w2[c * hidden + k];
      s.l[c] = l;
    }
    const po = b * C;
    if (h.kind.kind === 'softmax') {
      let m = s.l[0];
      let top = 0;
      for (let c = 1; c < C; c++) {
        if (s.l[c] > m) top = c;
        m = Math.max(m, s.l[c]);
      }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(s.l[c] - m);
      const lse = m + Math.log(sum);
      for (let c = 0; c < C; c++) s.p[po + c] = Math.exp(s.l[c] - lse);
      const y = split.labels[r];
      loss += lse - s.l[y];
      if (top === y) correct++;
    } else {
      let right = 0;
      for (let c = 0; c < C; c++) {
        const l = s.l[c];
        const y = split.labels[r * C + c];
        s.p[po + c] = 1 / (1 + Math.exp(-l));
        loss += y === 1 ? softplus(-l) : softplus(l);
        if ((l > 0 ? 1 : 0) === y) right++;
      }
      correct += right / C;
    }
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

/** The head's probabilities for every row of `split`, rows x outputs (softmax over the classes, or a sigmoid each). */
export function predictOutputs(head: LinearHead, split: FeatureSplit, batchSize = 256): Float32Array {
  const rows = checkSplit(split, head.dim, 'predict', head.kind);
  const C = head.outputs;
  const out = new Float32Array(rows * C);
  const s = scratch(batchSize, head.dim, head.hidden, C);
  const idx = Int32Array.from({ length: rows }, (_, i) => i);
  for (let start = 0; start < rows; start += batchSize) {
    const count = Math.min(batchSize, rows - start);
    forward(head, split, idx, start, count, s);
    out.set(s.p.subarray(0, count * C), start * C);
  }
  return out;
}

/** P(abnormal) for every row of `split` (a binary head: its second class). */
export function predictProba(head: LinearHead, split: FeatureSplit, batchSize = 256): Float32Array {
  if (head.kind.kind !== 'softmax' || head.outputs !== 2) throw new Error(`predictProba: the head has ${head.outputs} ${head.kind.kind} outputs, not normal vs abnormal; use predictOutputs`);
  const all = predictOutputs(head, split, batchSize);
  return Float32Array.from({ length: all.length / 2 }, (_, i) => all[i * 2 + 1]);
}

function evaluateSplit(head: LinearHead, split: FeatureSplit): { loss: number; accuracy: number } {
  const rows = checkSplit(split, head.dim, 'val', head.kind);
  const s = scratch(256, head.dim, head.hidden, head.outputs);
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
  /** the last layer (default: softmax over normal, abnormal) */
  head?: HeadKind;
  onEpoch?: (log: EpochLog) => void;
}

export function trainLinearHead(input: TrainLinearInput): LinearResult {
  const opts = LinearOptions.parse(input.options ?? {});
  const { dim } = input;
  const kind = input.head ?? BINARY_HEAD;
  const C = widthOf(kind);
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`trainLinearHead: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(C) || C < 1 || (kind.kind === 'softmax' && C < 2)) throw new Error(`trainLinearHead: a ${kind.kind} head needs ${kind.kind === 'softmax' ? '2 or more classes' : '1 or more outputs'}, got ${C}`);
  const n = checkSplit(input.train, dim, 'train', kind);
  if (n === 0) throw new Error('trainLinearHead: the train split is empty');
  if (input.val) checkSplit(input.val, dim, 'val', kind);
  if (input.test) checkSplit(input.test, dim, 'test', kind);

  const rng = createRng(opts.seed);
  const H = opts.hidden;
  const head: LinearHead = {
    dim,
    hidden: H,
    kind,
    outputs: C,
    ...standardiser(input.train, dim),
    w1: uniformInit(H * dim, dim, rng),
    b1: uniformInit(H, dim, rng),
    w2: uniformInit(C * H, H, rng),
    b2: uniformInit(C, H, rng),
  };
  const g = {
    w1: new Float32Array(H * dim),
    b1: new Float32Array(H),
    w2: new Float32Array(C * H),
    b2: new Float32Array(C),
  };
  const slots = [
    new AdamSlot(head.w1, g.w1),
    new AdamSlot(head.b1, g.b1),
    new AdamSlot(head.w2, g.w2),
    new AdamSlot(head.b2, g.b2),
  ];
  const B = opts.batchSize;
  const s = scratch(B, dim, H, C);
  const dz1 = new Float32Array(B * H);
  const d = new Float64Array(C);
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
      // backward of the batch-mean loss: d loss / d logit = p - y for softmax cross-entropy and for each sigmoid alike
      for (const a of Object.values(g)) a.fill(0);
      for (let b = 0; b < count; b++) {
        const r = order[start + b];
        for (let c = 0; c < C; c++) {
          const y = kind.kind === 'softmax' ? (input.train.labels[r] === c ? 1 : 0) : input.train.labels[r * C + c];
          d[c] = (s.p[b * C + c] - y) / count;
          g.b2[c] += d[c];
        }
        const zo = b * H;
        for (let k = 0; k < H; k++) {
          const a = s.a1[zo + k];
          let back = 0;
          for (let c = 0; c < C; c++) {
            g.w2[c * H + k] += d[c] * a;
            back += d[c] * head.w2[c * H + k];
          }
          dz1[zo + k] = s.z1[zo + k] > 0 ? back : 0;
        }
      }
      for (let b = 0; b < count; b++) {
        const zo = b * H;
        const xo = b * dim;
        for (let k = 0; k < H; k++) {
          const dk = dz1[zo + k];
          if (dk === 0) continue;
          g.b1[k] += dk;
          axpy(dk, s.x, xo, g.w1, k * dim, dim);
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
  if (input.test) {
    result.testOutputs = predictOutputs(head, input.test);
    if (kind.kind === 'softmax' && C === 2) result.testProbs = Float32Array.from({ length: result.testOutputs.length / 2 }, (_, i) => result.testOutputs![i * 2 + 1]);
  }
  if (input.val && input.val.labels.length > 0) result.valOutputs = predictOutputs(head, input.val);
  return result;
}
