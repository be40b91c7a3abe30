import * as tf from '@tensorflow/tfjs-core';
import type { LossSpec } from '../engine.ts';

/**
 * The losses of the tfjs engine, one small function each (packages/torch/cxr_torch/losses.py holds the
 * torch twins). Each returns the mean loss plus the logits and targets it was computed from: the
 * step's accuracy is the top-1 accuracy of those logits, whatever the loss.
 */
export interface LossTerms {
  loss: tf.Scalar;
  logits: tf.Tensor2D;
  target: tf.Tensor1D;
}

/** torch's CrossEntropyLoss: mean over rows of -log softmax(logits)[target]. */
export function crossEntropy(logits: tf.Tensor2D, target: tf.Tensor1D): LossTerms {
  const logp = tf.logSoftmax(logits);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(target, logits.shape[1]), logp), 1))) as tf.Scalar;
  return { loss, logits, target };
}

/** Rows scaled to unit L2 norm (torch.nn.functional.normalize: divided by max(|z|, 1e-12)). */
export function l2normalize(z: tf.Tensor2D): tf.Tensor2D {
  return tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12));
}

/** What stands in for -inf on the diagonal (a view is not its own negative): exp underflows to 0. */
export const MASKED = -1e9;

/**
 * NT-Xent (SimCLR): z [B, 2, D] are the projections of two views of B images. Over the 2B unit
 * vectors, row i's logits are its cosine similarities / temperature to the other 2B - 1 rows, and
 * its target is the other view of the same image (i + B mod 2B): cross-entropy averaged over 2B rows.
 */
export function ntXent(z: tf.Tensor3D, temperature: number): LossTerms {
  const [b, views, d] = z.shape;
  if (views !== 2) throw new Error(`nt-xent compares 2 views per image, the batch has ${views}`);
  const viewMajor = tf.reshape(tf.transpose(z, [1, 0, 2]), [2 * b, d]) as tf.Tensor2D; // rows: all view 0, then all view 1
  const u = l2normalize(viewMajor);
  const sim = tf.div(tf.matMul(u, u, false, true), temperature) as tf.Tensor2D;
  const logits = tf.where(tf.cast(tf.eye(2 * b), 'bool'), tf.fill([2 * b, 2 * b], MASKED), sim) as tf.Tensor2D;
  const target = tf.tensor1d(Array.from({ length: 2 * b }, (_, i) => (i + b) % (2 * b)), 'int32');
  return crossEntropy(logits, target);
}

/** The head's output and the batch's labels -> the loss terms, for one loss spec. */
export type TfjsLoss = (out: tf.Tensor2D | tf.Tensor3D, y: Int32Array | undefined, spec: LossSpec) => LossTerms;

/**
 * The losses of the tfjs engine by the name of the loss spec: one line each. A method that names a
 * loss missing here trains on torch only (its `engines`; the registry test holds the two to each other).
 */
export const TFJS_LOSSES: Partial<Record<LossSpec['name'], TfjsLoss>> = {
  'cross-entropy': (out, y) => {
    if (!y) throw new Error('cross-entropy needs labelled batches, this batch has none');
    return crossEntropy(out as tf.Tensor2D, tf.tensor1d(y, 'int32'));
  },
  'nt-xent': (out, _y, spec) => ntXent(out as tf.Tensor3D, (spec as Extract<LossSpec, { temperature: number }>).temperature),
};
