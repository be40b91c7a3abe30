import { z } from 'zod';
import { OptimizerConfig } from './engine.ts';

/** A pretext run, fully resolved: what config.json in the run folder holds. */
export const PretextConfig = z
  .object({
    task: z.string().min(1),
    /** task-specific sampler options (validated by the task's own schema) */
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    encoder: z.string().default('vgg-small-bn'),
    cache: z
      .object({ dir: z.string(), name: z.string(), size: z.number().int().min(16) })
      .strict(),
    epochs: z.number().int().positive().default(100),
    batchSize: z.number().int().positive().default(32),
    /** cap on steps per epoch (quick runs); default: the whole train split */
    stepsPerEpoch: z.number().int().positive().optional(),
    optimizer: OptimizerConfig.default(OptimizerConfig.parse({})),
    seed: z.number().int().nonnegative().default(0),
    /** where the encoder starts: random init, or a safetensors file of canonical encoder weights */
    init: z.string().default('random'),
    /** batch-sampling worker threads; 0 = in the training thread; default: cores - 2 (max 8) from 4 cores up, else 0 */
    workers: z.number().int().nonnegative().optional(),
    /** log a metrics line every N steps */
    logEvery: z.number().int().positive().default(10),
  })
  .strict();
export type PretextConfig = z.infer<typeof PretextConfig>;
