import type { Batch } from '@cxr-ssl/data';
import { type EncoderSpec, type HeadSpec, isBuffer, type Weights } from '@cxr-ssl/models';
import { type BatchStats, headOutput, setupTfjs, type TfjsBackendChoice } from '@cxr-ssl/models/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { CROSS_ENTROPY, type Engine, type EngineInit, type LossSpec, OptimizerConfig, type OptimizerState, type StepResult } from '../engine.ts';
import { crossEntropy, type LossTerms, ntXent } from './tfjs-losses.ts';

export interface TfjsEngineOptions {
  /** auto: tfjs-node(-gpu) when installed, else wasm; cpu is the slow pure-JS reference */
  backend?: TfjsBackendChoice;
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
 * Losses: cross-entropy and nt-xent (tfjs-losses.ts); info-nce (MoCo) is torch-only.
 */
export class TfjsEngine implements Engine {
  readonly name = 'tfjs';
  device = 'tfjs (not initialised)';
  private model?: Model;

  constructor(private readonly options: TfjsEngineOptions = {}) {}

  async init(init: EngineInit): Promise<void> {
    const loss = init.loss ?? CROSS_ENTROPY;
    if (loss.name !== 'cross-entropy' && loss.name !== 'nt-xent') {
      throw new Error(`the tfjs engine has no ${loss.name} loss (it needs a momentum encoder and a queue): train with --engine torch`);
    }
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
  private lossAndAccuracy(m: Model, batch: Batch, onBatchStats?: (s: BatchStats) => void): { loss: tf.Scalar; accuracy: tf.Scalar } {
    const x = tf.tensor4d(Float32Array.from(batch.x), batch.shape, 'float32');
    const out = headOutput(m.encoder, m.head, m.params, x, { training: !!onBatchStats, onBatchStats });
    let terms: LossTerms;
    if (m.loss.name === 'nt-xent') terms = ntXent(out as tf.Tensor3D, m.loss.temperature);
    else if (batch.y) terms = crossEntropy(out as tf.Tensor2D, tf.tensor1d(batch.y, 'int32'));
    else throw new Error('cross-entropy needs labelled batches, this batch has none');
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(terms.logits, 1), terms.target), 'float32')) as tf.Scalar;
    return { loss: terms.loss, accuracy };
  }

  async trainStep(batch: Batch, lr: number): Promise<StepResult> {
    const m = this.ready;
    const { momentum: mu, weightDecay, name: optimizer, trustCoefficient } = m.optimizer;
    const [loss, accuracy] = tf.tidy(() => {
      let accuracyT: tf.Scalar | undefined;
      const stats: BatchStats[] = [];
      const keepStats = (s: BatchStats) => stats.push({ ...s, mean: tf.keep(s.mean), variance: tf.keep(s.variance) });
      const { value, grads } = tf.variableGrads(() => {
        const out = this.lossAndAccuracy(m, batch, keepStats);
        accuracyT = tf.keep(out.accuracy);
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
        let d = weightDecay > 0 ? tf.add(grad, tf.mul(w, weightDecay)) : grad;
        if (optimizer === 'lars') d = w.rank > 1 ? larsScaled(w, d, trustCoefficient) : grad;
        buf.assign(tf.add(tf.mul(buf, mu), d));
        w.assign(tf.sub(w, tf.mul(buf, lr)));
      }
      return [value, accuracyT!];
    });
    return this.read(loss, accuracy);
  }

  async evalStep(batch: Batch): Promise<StepResult> {
    const m = this.ready;
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

/** d scaled by eta * |w| / |d| (1 where either norm is 0): LARS's layer-wise trust ratio. */
function larsScaled(w: tf.Tensor, d: tf.Tensor, eta: number): tf.Tensor {
  const wn = tf.norm(w);
  const dn = tf.norm(d);
  const ok = tf.logicalAnd(tf.greater(wn, 0), tf.greater(dn, 0));
  return tf.mul(d, tf.where(ok, tf.div(tf.mul(wn, eta), tf.maximum(dn, 1e-30)), tf.onesLike(wn)));
}
