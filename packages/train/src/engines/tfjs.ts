import { type Batch, type PaintedBatch, painted } from '@cxr-ssl/data';
import { type EncoderSpec, type HeadSpec, isBuffer, type Tensor, type Weights } from '@cxr-ssl/models';
import { type BatchStats, encoderForward, headFromFeatures, headOutput, setupTfjs, type TfjsBackendChoice, tfjsHeadProblem } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { CROSS_ENTROPY, type Engine, type EngineInit, type LossSpec, OptimizerConfig, type OptimizerState, type StepResult, type StepScalars } from '../engine.ts';
import { TFJS_LOSSES } from './tfjs-losses.ts';

export interface TfjsEngineOptions {
  /** auto: tfjs-node(-gpu) when installed, else wasm; cpu is the slow pure-JS reference */
  backend?: TfjsBackendChoice;
  /**
   * Rows per pass when a whole batch does not fit the wasm heap (memory.ts picks it): the batch's
   * loss and its gradient come from passes of this many rows, accumulated (see trainMicro).
   */
  microBatch?: number;
}

interface Model {
  encoder: EncoderSpec;
  head: HeadSpec;
  optimizer: OptimizerConfig;
  loss: LossSpec;
  /** canonical name -> variable, in canonical order: trainable weights and buffers (BN running stats) */
  params: Map<string, tf.Variable>;
  /** canonical name -> momentum buffer, trainable weights only */
  momentum: Map<string, tf.Variable>;
}

/**
 * In-process TensorFlow.js engine. Variables hold the canonical weights in canonical layouts
 * (the forward transposes inside the graph), so state() is a plain read-back. The optimiser is
 * SGD with momentum (or LARS, see OptimizerConfig) written out by hand with torch's semantics, so
 * both engines step alike:  d = grad + weightDecay * w;  buf = momentum * buf + d;  w -= lr * buf
 * Losses: TFJS_LOSSES (tfjs-losses.ts): cross-entropy and nt-xent; the others are torch-only.
 */
export class TfjsEngine implements Engine {
  readonly name = 'tfjs';
  device = 'tfjs (not initialised)';
  private model?: Model;

  constructor(private readonly options: TfjsEngineOptions = {}) {}

  async init(init: EngineInit): Promise<void> {
    const loss = init.loss ?? CROSS_ENTROPY;
    if (!TFJS_LOSSES[loss.name]) {
      throw new Error(`the tfjs engine has no ${loss.name} loss (it has ${Object.keys(TFJS_LOSSES).join(', ')}): train with --engine torch`);
    }
    const headProblem = tfjsHeadProblem(init.head);
    if (headProblem) throw new Error(headProblem);
    this.device = await setupTfjs(this.options.backend ?? 'auto');
    await this.close();
    const params = new Map<string, tf.Variable>();
    const momentum = new Map<string, tf.Variable>();
    for (const [name, t] of init.weights) {
      const buffer = isBuffer(name);
      params.set(name, tf.variable(tf.tensor(t.data, t.shape, 'float32'), !buffer));
      if (buffer) continue;
      const buf = init.optimizerState?.get(name);
      if (buf && buf.data.length !== t.data.length) {
        throw new Error(`Optimizer state "${name}" has shape [${buf.shape}] but the weight has [${t.shape}]: the checkpoint does not match this model.`);
      }
      momentum.set(name, tf.variable(buf ? tf.tensor(buf.data, t.shape, 'float32') : tf.zeros(t.shape), false));
    }
    this.model = { encoder: init.encoder, head: init.head, optimizer: OptimizerConfig.parse(init.optimizer), loss, params, momentum };
  }

  private get ready(): Model {
    if (!this.model) throw new Error('TfjsEngine: call init() before training or reading state.');
    return this.model;
  }

  /** The loss of one batch and the fraction of rows whose top-1 logit is their target. */
  private lossAndAccuracy(m: Model, batch: PaintedBatch, onBatchStats?: (s: BatchStats) => void): { loss: tf.Scalar; accuracy: tf.Scalar } {
    const x = tf.tensor4d(Float32Array.from(batch.x), batch.shape, 'float32');
    const out = headOutput(m.encoder, m.head, m.params, x, { training: !!onBatchStats, onBatchStats });
    return this.lossOf(m, out, batch.y);
  }

  private lossOf(m: Model, out: tf.Tensor2D | tf.Tensor3D, y: Int32Array | undefined): { loss: tf.Scalar; accuracy: tf.Scalar } {
    const terms = TFJS_LOSSES[m.loss.name]!(out, y, m.loss);
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(terms.logits, 1), terms.target), 'float32')) as tf.Scalar;
    return { loss: terms.loss, accuracy };
  }

  async trainStep(planned: Batch, { lr }: StepScalars): Promise<StepResult> {
    const batch = painted(planned); // tfjs has no renderer of its own: the TypeScript one paints any plans
    const micro = this.options.microBatch;
    if (micro && micro < batch.shape[0]) return this.trainMicro(batch, lr, micro);
    const m = this.ready;
    const [loss, accuracy] = tf.tidy(() => {
      let accuracyT: tf.Scalar | undefined;
      const stats: BatchStats[] = [];
      const keepStats = (s: BatchStats) => stats.push({ ...s, mean: tf.keep(s.mean), variance: tf.keep(s.variance) });
      const { value, grads } = tf.variableGrads(() => {
        const out = this.lossAndAccuracy(m, batch, keepStats);
        accuracyT = tf.keep(out.accuracy);
        return out.loss;
      }, [...m.params.values()].filter((v) => v.trainable));
      updateRunningStats(m, stats);
      applyUpdate(m, grads, lr);
      return [value, accuracyT!];
    });
    return this.read(loss, accuracy);
  }

  /**
   * One step of the whole batch in passes of `micro` rows, for batches whose activations do not fit
   * the wasm heap at once. Gradient caching: (1) forward every pass without a tape and join the
   * head outputs; (2) the batch's loss and its gradient d loss / d output, on the joined outputs,
   * so a loss that couples rows (NT-Xent's negatives) sees the whole batch; (3) per pass, forward
   * again with a tape and backpropagate sum(output * d output): the sum of the passes' weight
   * gradients is the full batch's. Exact for encoders without BatchNorm; a BatchNorm normalises
   * each pass with that pass's statistics (its running averages get the whole batch's).
   */
  private async trainMicro(batch: PaintedBatch, lr: number, micro: number): Promise<StepResult> {
    const m = this.ready;
    const [b, views, h, w] = batch.shape;
    const per = views * h * w;
    const passes: PaintedBatch[] = [];
    for (let start = 0; start < b; start += micro) {
      const end = Math.min(b, start + micro);
      passes.push({ x: batch.x.subarray(start * per, end * per), y: batch.y?.subarray(start, end), shape: [end - start, views, h, w] });
    }
    const forward = (p: PaintedBatch, onBatchStats?: (s: BatchStats) => void) =>
      headOutput(m.encoder, m.head, m.params, tf.tensor4d(Float32Array.from(p.x), p.shape, 'float32'), { training: true, onBatchStats });
    const outs = passes.map((p) => tf.tidy(() => forward(p, () => {})));
    const [loss, accuracy, dOut] = tf.tidy(() => {
      const joined = tf.concat(outs, 0) as tf.Tensor2D | tf.Tensor3D;
      let acc: tf.Scalar | undefined;
      const { value, grad } = tf.valueAndGrad((o: tf.Tensor) => {
        const r = this.lossOf(m, o as tf.Tensor2D | tf.Tensor3D, batch.y);
        acc = tf.keep(r.accuracy);
        return r.loss;
      })(joined);
      return [value, acc!, grad];
    });
    for (const o of outs) o.dispose();
    const total = new Map<string, tf.Tensor>();
    const stats: BatchStats[][] = [];
    passes.forEach((p, i) => {
      tf.tidy(() => {
        const passStats: BatchStats[] = [];
        const dPass = tf.slice(dOut, i * micro, p.shape[0]);
        const trainable = [...m.params.values()].filter((v) => v.trainable);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(p, (s) => passStats.push({ ...s, mean: tf.keep(s.mean), variance: tf.keep(s.variance) })), dPass)) as tf.Scalar, trainable);
        for (const v of trainable) {
          const prev = total.get(v.name);
          total.set(v.name, tf.keep(prev ? tf.add(prev, grads[v.name]) : grads[v.name]));
          prev?.dispose();
        }
        stats.push(passStats);
      });
    });
    dOut.dispose();
    tf.tidy(() => {
      updateRunningStats(m, joinBatchStats(stats, passes.map((p) => p.shape[0])));
      applyUpdate(m, Object.fromEntries(total) as tf.NamedTensorMap, lr);
    });
    for (const g of total.values()) g.dispose();
    return this.read(loss, accuracy);
  }

  async evalStep(planned: Batch): Promise<StepResult> {
    const batch = painted(planned);
    const m = this.ready;
    const micro = this.options.microBatch;
    if (micro && micro < batch.shape[0]) {
      // in passes too: a tidy keeps every intermediate of its forward pass until it ends
      const [b, views, h, w] = batch.shape;
      const per = views * h * w;
      const outs: (tf.Tensor2D | tf.Tensor3D)[] = [];
      for (let start = 0; start < b; start += micro) {
        const end = Math.min(b, start + micro);
        outs.push(tf.tidy(() => headOutput(m.encoder, m.head, m.params, tf.tensor4d(Float32Array.from(batch.x.subarray(start * per, end * per)), [end - start, views, h, w], 'float32'))));
      }
      const { loss, accuracy } = tf.tidy(() => this.lossOf(m, tf.concat(outs, 0) as tf.Tensor2D | tf.Tensor3D, batch.y));
      for (const o of outs) o.dispose();
      return this.read(loss, accuracy);
    }
    const { loss, accuracy } = tf.tidy(() => this.lossAndAccuracy(m, batch));
    return this.read(loss, accuracy);
  }

  private async read(loss: tf.Scalar, accuracy: tf.Scalar): Promise<StepResult> {
    try {
      const [l, a] = await Promise.all([loss.data(), accuracy.data()]);
      // a non-finite loss is reported, not thrown: the loop names the step and keeps the last checkpoint
      return { loss: l[0], accuracy: a[0] };
    } finally {
      loss.dispose();
      accuracy.dispose();
    }
  }

  /** Encoder features [B, V, F] and the head's output, inference mode, in micro-batches where the engine has them. */
  async forward(x: Uint8Array, shape: Batch['shape']): Promise<{ features: Tensor; logits: Tensor }> {
    const m = this.ready;
    const [b, views, h, w] = shape;
    const per = views * h * w;
    const step = this.options.microBatch ?? b;
    const feats: tf.Tensor[] = [];
    const outs: tf.Tensor[] = [];
    for (let start = 0; start < b; start += step) {
      const end = Math.min(b, start + step);
      const [f, o] = tf.tidy(() => {
        const pixels = tf.tensor4d(Float32Array.from(x.subarray(start * per, end * per)), [(end - start) * views, h, w, 1], 'float32');
        const features = encoderForward(m.encoder, m.params, pixels);
        return [features, headFromFeatures(m.head, m.params, features, end - start)];
      });
      feats.push(f);
      outs.push(o);
    }
    const [features, logits] = [tf.concat(feats), tf.concat(outs)];
    tf.dispose([...feats, ...outs]);
    try {
      return {
        features: { shape: [b, views, features.shape[1]!], data: (await features.data()) as Float32Array },
        logits: { shape: [...logits.shape], data: (await logits.data()) as Float32Array },
      };
    } finally {
      features.dispose();
      logits.dispose();
    }
  }

  /** read synchronously: the snapshot is of the weights as they stand at the call, whatever steps follow */
  async state(): Promise<{ weights: Weights; optimizer: OptimizerState }> {
    const m = this.ready;
    const read = (vars: Map<string, tf.Variable>) => {
      const out: Weights = new Map();
      for (const [name, v] of vars) out.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
      return out;
    };
    return { weights: read(m.params), optimizer: read(m.momentum) };
  }

  async close(): Promise<void> {
    if (!this.model) return;
    for (const v of [...this.model.params.values(), ...this.model.momentum.values()]) v.dispose();
    this.model = undefined;
  }
}

/** torch's running averages: r = (1 - momentum) * r + momentum * batch statistic (disposes the statistics). */
function updateRunningStats(m: Model, stats: BatchStats[]): void {
  for (const s of stats) {
    for (const [suffix, value] of [['running_mean', s.mean], ['running_var', s.variance]] as const) {
      const r = m.params.get(`${s.name}.${suffix}`)!;
      r.assign(tf.add(tf.mul(r, 1 - s.momentum), tf.mul(value, s.momentum)));
      value.dispose();
    }
  }
}

/**
 * The whole batch's BatchNorm statistics from those of its passes (rows per pass in `rows`): the
 * mean of the means weighted by rows, and the unbiased variance from each pass's second moment.
 * Disposes the per-pass statistics.
 */
function joinBatchStats(passes: BatchStats[][], rows: number[]): BatchStats[] {
  return passes[0].map((first, layer) => {
    const all = passes.map((p) => p[layer]);
    const joined = tf.tidy(() => {
      const n = all.map((s, i) => s.count ?? rows[i]); // elements per channel in each pass
      const N = n.reduce((a, c) => a + c, 0);
      const mean = tf.addN(all.map((s, i) => tf.mul(s.mean, n[i] / N))) as tf.Tensor1D;
      // E[x²] of the whole batch from each pass's population variance ((n - 1) / n x unbiased) and mean
      const second = tf.addN(all.map((s, i) => tf.mul(tf.add(tf.mul(s.variance, (n[i] - 1) / n[i]), tf.square(s.mean)), n[i] / N)));
      const variance = tf.mul(tf.sub(second, tf.square(mean)), N / Math.max(1, N - 1)) as tf.Tensor1D;
      return { mean, variance };
    });
    for (const s of all) {
      s.mean.dispose();
      s.variance.dispose();
    }
    return { name: first.name, momentum: first.momentum, ...joined };
  });
}

/** SGD with momentum (or LARS) on accumulated gradients, torch's semantics (see the class comment). */
function applyUpdate(m: Model, grads: tf.NamedTensorMap, lr: number): void {
  const { momentum: mu, weightDecay, name: optimizer, trustCoefficient } = m.optimizer;
  for (const [name, buf] of m.momentum) {
    const w = m.params.get(name)!;
    const grad = grads[w.name];
    let d = weightDecay > 0 ? tf.add(grad, tf.mul(w, weightDecay)) : grad;
    if (optimizer === 'lars') d = w.rank > 1 ? larsScaled(w, d, trustCoefficient) : grad;
    buf.assign(tf.add(tf.mul(buf, mu), d));
    w.assign(tf.sub(w, tf.mul(buf, lr)));
  }
}

/** d scaled by eta * |w| / |d| (1 where either norm is 0): LARS's layer-wise trust ratio. */
function larsScaled(w: tf.Tensor, d: tf.Tensor, eta: number): tf.Tensor {
  const wn = tf.norm(w);
  const dn = tf.norm(d);
  const ok = tf.logicalAnd(tf.greater(wn, 0), tf.greater(dn, 0));
  return tf.mul(d, tf.where(ok, tf.div(tf.mul(wn, eta), tf.maximum(dn, 1e-30)), tf.onesLike(wn)));
}
