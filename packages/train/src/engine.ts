import type { Batch } from '@cxr-ssl/data';
import type { EncoderSpec, HeadSpec, Weights } from '@cxr-ssl/models';
import { z } from 'zod';

/**
 * SGD with momentum. `lr` is the peak learning rate; the loop scales it per step by the run's
 * schedule (schedule.ts) and hands each step its own lr, so engines never see the schedule. The
 * defaults train the BatchNorm encoders from scratch on CPU (measured on the fixture and Kermany
 * for all three pretext tasks); configs/nih-paper.yaml sets the study's own.
 */
export const OptimizerConfig = z.object({
  lr: z.number().positive().default(0.05),
  momentum: z.number().min(0).max(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
});
export type OptimizerConfig = z.infer<typeof OptimizerConfig>;

export interface StepResult {
  loss: number;
  /** fraction of the batch whose pretext label was predicted correctly */
  accuracy: number;
}

/** Optimiser state: one momentum buffer per trainable weight, same canonical names. */
export type OptimizerState = Weights;

export interface EngineInit {
  encoder: EncoderSpec;
  head: HeadSpec;
  /** full canonical weights (encoder + head) to start from */
  weights: Weights;
  optimizer: OptimizerConfig;
  optimizerState?: OptimizerState;
  seed: number;
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
  init(init: EngineInit): Promise<void>;
  trainStep(batch: Batch, lr: number): Promise<StepResult>;
  /** forward only, no update */
  evalStep(batch: Batch): Promise<StepResult>;
  /** current weights and optimiser state, canonical names, float32 */
  state(): Promise<{ weights: Weights; optimizer: OptimizerState }>;
  close(): Promise<void>;
}
