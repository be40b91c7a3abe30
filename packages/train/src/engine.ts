import type { Batch } from '@cxr-ssl/data';
import type { EncoderSpec, HeadSpec, Tensor, Weights } from '@cxr-ssl/models';
import { z } from 'zod';
import type { Encoded } from './methods/method.ts';

/**
 * SGD with momentum, or LARS. `lr` is the peak learning rate; the loop scales it per step by the
 * run's schedule (schedule.ts) and hands each step its own lr, so engines never see the schedule.
 * The defaults train the BatchNorm encoders from scratch on CPU (measured on the fixture and
 * Kermany for all three pretext tasks); configs/nih-paper.yaml sets the study's own.
 *
 * LARS (You et al. 2017, as in SimCLR; written like Barlow Twins' PyTorch LARS): for weights with
 * more than one dimension d = g + weightDecay * w is scaled by trustCoefficient * |w| / |d|;
 * biases and BatchNorm parameters get neither weight decay nor the scaling. Then, as in SGD,
 * buf = momentum * buf + d and w -= lr * buf, so the optimiser state has one format.
 */
export const OptimizerConfig = z.object({
  name: z.enum(['sgd', 'lars']).default('sgd'),
  lr: z.number().positive().default(0.05),
  momentum: z.number().min(0).max(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
  /** LARS only: eta, the trust coefficient */
  trustCoefficient: z.number().positive().default(0.001),
});
export type OptimizerConfig = z.infer<typeof OptimizerConfig>;
/** Optimiser settings as callers may give them (defaults not yet filled in). */
export type OptimizerOptions = z.input<typeof OptimizerConfig>;

export interface StepResult {
  loss: number;
  /** top-1 accuracy of the loss's own logits: the pretext label, or the positive among the negatives */
  accuracy: number;
}

/**
 * The loss an engine minimises, by name (each engine implements each name as a small function):
 * - cross-entropy: classifier logits against the batch's labels;
 * - nt-xent: SimCLR's normalised-temperature cross-entropy between the two views of each image,
 *   the other 2B - 2 views of the batch as negatives;
 * - info-nce: MoCo's: a query view against its key from a momentum copy of the network
 *   (`key.*`), negatives from a queue of earlier keys (`loss.queue`);
 * - prediction-cosine: BYOL's: the online prediction of each view against the target network's (`key.*`, EMA
 *   with the step's `tau`) projection of the other view, 2 - 2 cos, symmetric;
 * - self-distillation: DINO's: every crop of the student against the centred (`loss.center`), sharpened
 *   (the step's `teacherTemp`) teacher (`key.*`, EMA with the step's `tau`) outputs of the other global crops.
 * The engines' hooks keep the method's state; `LossSpecSchema` is this type as the schema the
 * Python engine validates against (packages/torch/cxr_torch/spec.schema.json, generated from it).
 */
export const LossSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('cross-entropy') }).strict(),
  z.object({ name: z.literal('nt-xent'), temperature: z.number().positive() }).strict(),
  z.object({ name: z.literal('info-nce'), temperature: z.number().positive(), queue: z.number().int().min(1), momentum: z.number().min(0).max(1), shuffleGroups: z.number().int().min(1) }).strict(),
  z.object({ name: z.literal('prediction-cosine') }).strict(),
  z
    .object({ name: z.literal('self-distillation'), studentTemperature: z.number().positive(), teacherTemperature: z.number().positive(), centerMomentum: z.number().min(0).max(1) })
    .strict(),
]);
export type LossSpec = z.infer<typeof LossSpecSchema>;
export const CROSS_ENTROPY: LossSpec = { name: 'cross-entropy' };

/**
 * The scalars of one update, each a pure function of the step (so a resumed run gets exactly what an
 * uninterrupted one would): the learning rate, and the method's own (e.g. BYOL's EMA tau, DINO's
 * teacher temperature), named as the method's `scalars` names them.
 */
export type StepScalars = { lr: number } & Record<string, number>;

/** Optimiser state: one momentum buffer per trainable weight, same canonical names. */
export type OptimizerState = Weights;

export interface EngineInit {
  encoder: EncoderSpec;
  head: HeadSpec;
  /** full canonical weights (encoder + head) to start from */
  weights: Weights;
  optimizer: OptimizerOptions;
  optimizerState?: OptimizerState;
  /** default cross-entropy */
  loss?: LossSpec;
  seed: number;
  /** the step training starts at (0, or a checkpoint's): ranks on several machines must agree on it */
  startStep?: number;
  /** what the method encodes per sample, for a memory report (default: every view of the batch, trained) */
  encodes?: Encoded;
}

/**
 * A training engine. The orchestration (train/src/loop.ts) owns data, schedule, checkpoints and
 * progress; an engine only turns batches into weight updates.
 */
export interface Engine {
  readonly name: string;
  /** human-readable device, e.g. "wasm (SIMD)", "cuda:0 NVIDIA H100 bf16", "cpu (2 threads)" */
  readonly device: string;
  /**
   * How many trainStep calls the loop may keep pending at once (default 1). An engine behind a
   * pipe (torch) says more, so the next batches are already on their way while the GPU computes.
   */
  readonly inFlight?: number;
  /**
   * false on the machines other than the first of a multi-node run: they train but write nothing
   * (checkpoints, metrics, encoder come from global rank 0). Default true.
   */
  readonly writesRun?: boolean;
  /**
   * Where the engine paints planned batches (batch.planned, see render.ts), once init() has run:
   * 'cuda' or 'cpu'; absent when it has no renderer of its own (it then paints them with TypeScript's).
   */
  readonly rendersOn?: 'cuda' | 'cpu';
  init(init: EngineInit): Promise<void>;
  /** one update; `scalars` are the step's lr and the method's own per-step scalars (see StepScalars) */
  trainStep(batch: Batch, scalars: StepScalars): Promise<StepResult>;
  /** forward only, no update */
  evalStep(batch: Batch): Promise<StepResult>;
  /**
   * Forward only, fp32, BatchNorm in inference mode: per-view encoder features [B, V, F] and the head's
   * output (logits [B, classes], or a projector's per-view output [B, V, width]). The held-out pass's
   * collapse measure reads it; an engine without it runs without that measure.
   */
  forward?(x: Uint8Array, shape: Batch['shape']): Promise<{ features: Tensor; logits: Tensor }>;
  /** current weights and optimiser state, canonical names, float32, as they stand when called (later steps do not change them) */
  state(): Promise<{ weights: Weights; optimizer: OptimizerState }>;
  close(): Promise<void>;
}
