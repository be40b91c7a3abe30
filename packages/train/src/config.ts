import { z } from 'zod';
import { OptimizerConfig } from './engine.ts';
import { RenderOption } from './render.ts';
import { DEFAULT_SCHEDULE, Schedule } from './schedule.ts';

/** A pretext run, fully resolved: what config.json in the run folder holds. */
export const PretextConfig = z
  .object({
    task: z.string().min(1),
    /** task-specific sampler options (validated by the task's own schema) */
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    encoder: z.string().default('vgg-small-bn'),
    cache: z
      .object({
        dir: z.string(),
        /** the prepared set; for a pool, the sets' names joined by '+' */
        name: z.string(),
        size: z.number().int().min(16),
        /** pooled pretraining (run-data.ts): the prepared sets sampled, each with its optional sampling weight */
        pool: z.array(z.object({ name: z.string().min(1), weight: z.number().positive().optional() }).strict()).min(2).optional(),
      })
      .strict(),
    epochs: z.number().int().positive().default(100),
    batchSize: z.number().int().positive().default(32),
    /** cap on steps per epoch (quick runs); default: the whole train split */
    stepsPerEpoch: z.number().int().positive().optional(),
    optimizer: OptimizerConfig.default(OptimizerConfig.parse({})),
    /** how the lr changes per step (schedule.ts); default cosine with a 5% warm-up */
    schedule: Schedule.default(DEFAULT_SCHEDULE),
    seed: z.number().int().nonnegative().default(0),
    /** where the encoder starts: random init, or a safetensors file of canonical encoder weights */
    init: z.string().default('random'),
    /** batch-sampling worker threads; 0 = in the training thread; default: cores - 2 (max 8) from 4 cores up, else 0 */
    workers: z.number().int().nonnegative().optional(),
    /** who paints the views (render.ts) */
    render: RenderOption,
    /** log a metrics line every N steps */
    logEvery: z.number().int().positive().default(10),
    /** a held-out pass (pretext metric and collapse measure) every N steps, and at the end; default: heldOutInterval() */
    heldOutEvery: z.number().int().positive().optional(),
    /** a checkpoint every N steps; default: by time alone (checkpointMinutes). Always at the end and on Ctrl-C / SIGTERM / SIGUSR1 */
    checkpointEvery: z.number().int().positive().optional(),
    /** a checkpoint once this many minutes have passed since the last one (at the next step) */
    checkpointMinutes: z.number().positive().default(10),
  })
  .strict()
  .refine((c) => c.schedule.name !== 'cosine' || c.schedule.minLr < c.optimizer.lr, {
    path: ['schedule', 'minLr'],
    message: 'minLr must be below the peak lr (optimizer.lr)',
  });
export type PretextConfig = z.infer<typeof PretextConfig>;

/**
 * Steps between held-out passes when the run names none: every epoch, but at least 10 steps apart (a pass
 * costs about as much as one training step: on the fixture an epoch is one step) and at most 20 passes a run.
 */
export function heldOutInterval(cfg: Pick<PretextConfig, 'heldOutEvery'>, stepsPerEpoch: number, totalSteps: number): number {
  return cfg.heldOutEvery ?? Math.max(stepsPerEpoch, 10, Math.ceil(totalSteps / 20));
}

/** The training settings a run gets when it names none (task and data are placeholders here). */
export const PRETEXT_DEFAULTS = PretextConfig.parse({ task: '-', cache: { dir: '.', name: '-', size: 16 } });
