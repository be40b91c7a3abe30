import type { Batch } from '@cxr-ssl/data';
import { type EncoderSpec, type HeadSpec, isBuffer, type Weights } from '@cxr-ssl/models';
import { type BatchStats, pretextLogits, setupTfjs, type TfjsBackendChoice } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { Engine, EngineInit, OptimizerConfig, OptimizerState, StepResult } from '../engine.ts';

export interface TfjsEngineOptions {
  /** auto: tfjs-node(-gpu) when installed, else wasm; cpu is the slow pure-JS reference */
  backend?: TfjsBackendChoice;
}

interface Model {
  encoder: EncoderSpec;
  head: HeadSpec;
  optimizer: OptimizerConfig;
  /** canonical name -> variable, in canonical order: trainable weights and buffers (BN running stats) */
  params: Map<string, tf.Variable>;
  /** canonical name -> momentum buffer, trainable weights only */
  momentum: Map<string, tf.Variable>;
}

/**
 * In-process TensorFlow.js engine. Variables hold the canonical weights in canonical layouts
 * (the forward transposes inside the graph), so state() is a plain read-back. The optimiser is
 * SGD with momentum written out by hand with torch's semantics, so both engines step alike:
 *   d = grad + weightDecay * w;  buf = momentum * buf + d;  w -= lr * buf
 */
export class TfjsEngine implements Engine {
  readonly name = 'tfjs';
  device = 'tfjs (not initialised)';
  private model?: Model;

  constructor(private readonly options: TfjsEngineOptions = {}) {}

  async init(init: EngineInit): Promise<void> {
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
    this.model = { encoder: init.encoder, head: init.head, optimizer: init.optimizer, params, momentum };
  }

  private get ready(): Model {
    if (!this.model) throw new Error('TfjsEngine: call init() before training or reading state.');
    return this.model;
  }

  /** Mean cross-entropy (torch's CrossEntropyLoss) and the number of correct argmax predictions. */
  private lossAndCorrect(m: Model, batch: Batch, onBatchStats?: (s: BatchStats) => void): { loss: tf.Scalar; correct: tf.Scalar } {
    const x = tf.tensor4d(Float32Array.from(batch.x), batch.shape, 'float32');
    const y = tf.tensor1d(batch.y, 'int32');
    const logits = pretextLogits(m.encoder, m.head, m.params, x, { training: !!onBatchStats, onBatchStats });
    const logp = tf.logSoftmax(logits);
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, m.head.classes), logp), 1))) as tf.Scalar;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')) as tf.Scalar;
    return { loss, correct };
  }

  async trainStep(batch: Batch, lr: number): Promise<StepResult> {
    const m = this.ready;
    const { momentum: mu, weightDecay } = m.optimizer;
    const [loss, correct] = tf.tidy(() => {
      let correctT: tf.Scalar | undefined;
      const stats: BatchStats[] = [];
      const keepStats = (s: BatchStats) => stats.push({ ...s, mean: tf.keep(s.mean), variance: tf.keep(s.variance) });
      const { value, grads } = tf.variableGrads(() => {
        const out = this.lossAndCorrect(m, batch, keepStats);
        correctT = tf.keep(out.correct);
        return out.loss;
      }, [...m.params.values()].filter((v) => v.trainable));
      // torch's running averages: r = (1 - momentum) * r + momentum * batch statistic
      for (const s of stats) {
        for (const [suffix, value] of [['running_mean', s.mean], ['running_var', s.variance]] as const) {
          const r = m.params.get(`${s.name}.${suffix}`)!;
          r.assign(tf.add(tf.mul(r, 1 - s.momentum), tf.mul(value, s.momentum)));
          value.dispose();
        }
      }
      for (const [name, buf] of m.momentum) {
        const w = m.params.get(name)!;
        const grad = grads[w.name];
        const d = weightDecay > 0 ? tf.add(grad, tf.mul(w, weightDecay)) : grad;
        buf.assign(tf.add(tf.mul(buf, mu), d));
        w.assign(tf.sub(w, tf.mul(buf, lr)));
      }
      return [value, correctT!];
    });
    return this.read(loss, correct, batch);
  }

  async evalStep(batch: Batch): Promise<StepResult> {
    const m = this.ready;
    const { loss, correct } = tf.tidy(() => this.lossAndCorrect(m, batch));
    return this.read(loss, correct, batch);
  }

  private async read(loss: tf.Scalar, correct: tf.Scalar, batch: Batch): Promise<StepResult> {
    try {
      const [l, c] = await Promise.all([loss.data(), correct.data()]);
      // a non-finite loss is reported, not thrown: the loop names the step and keeps the last checkpoint
      return { loss: l[0], accuracy: c[0] / batch.shape[0] };
    } finally {
      loss.dispose();
      correct.dispose();
    }
  }

  async state(): Promise<{ weights: Weights; optimizer: OptimizerState }> {
    const m = this.ready;
    const read = async (vars: Map<string, tf.Variable>) => {
      const out: Weights = new Map();
      for (const [name, v] of vars) out.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
      return out;
    };
    return { weights: await read(m.params), optimizer: await read(m.momentum) };
  }

  async close(): Promise<void> {
    if (!this.model) return;
    for (const v of [...this.model.params.values(), ...this.model.momentum.values()]) v.dispose();
    this.model = undefined;
  }
}
