import { z } from 'zod';

/**
 * Learning-rate schedules, as a pure function of the global step (0-based: the index of the update
 * about to be made), so a resumed run computes exactly the lr an uninterrupted one would.
 *
 * - `step`: lr · decay^epoch (×decay once per epoch): the study's "decay 0.9" read literally.
 * - `inverse-time`: lr / (1 + decay · t), t the update index: the `decay` argument of Keras' SGD
 *   (Keras 2: `lr * 1 / (1 + decay * iterations)`, iterations counted before the update).
 * - `cosine`: linear warm-up to lr over the first W updates (update t gets lr·(t+1)/W), then a
 *   half cosine from lr down to minLr at the end of training. W = warmupSteps, or warmupEpochs
 *   epochs, or by default 5% of all updates (Goyal et al.'s 5 of 90 epochs).
 */
export const Schedule = z.discriminatedUnion('name', [
  z.object({ name: z.literal('step'), decay: z.number().positive().max(1) }).strict(),
  z.object({ name: z.literal('inverse-time'), decay: z.number().positive() }).strict(),
  z
    .object({
      name: z.literal('cosine'),
      warmupSteps: z.number().int().nonnegative().optional(),
      warmupEpochs: z.number().nonnegative().optional(),
      minLr: z.number().nonnegative().default(0),
    })
    .strict()
    .refine((s) => s.warmupSteps === undefined || s.warmupEpochs === undefined, {
      message: 'give warmupSteps or warmupEpochs, not both',
    }),
]);
export type Schedule = z.infer<typeof Schedule>;
export const SCHEDULES = ['step', 'inverse-time', 'cosine'] as const;

/** The default of new runs: cosine with the default warm-up. */
export const DEFAULT_SCHEDULE: Schedule = { name: 'cosine', minLr: 0 };

/** Default cosine warm-up, as a fraction of all updates. */
export const DEFAULT_WARMUP_FRACTION = 0.05;

/** Warm-up updates of a cosine schedule (0 for the others). */
export function warmupSteps(s: Schedule, stepsPerEpoch: number, totalSteps: number): number {
  if (s.name !== 'cosine') return 0;
  if (s.warmupSteps !== undefined) return s.warmupSteps;
  if (s.warmupEpochs !== undefined) return Math.round(s.warmupEpochs * stepsPerEpoch);
  return Math.round(DEFAULT_WARMUP_FRACTION * totalSteps);
}

/** The learning rate of update `step` (0-based) of a run of `totalSteps` updates. */
export function lrAt(lr: number, s: Schedule, step: number, stepsPerEpoch: number, totalSteps: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`lrAt: step must be a non-negative integer, got ${step}`);
  switch (s.name) {
    case 'step':
      return lr * s.decay ** Math.floor(step / stepsPerEpoch);
    case 'inverse-time':
      return lr / (1 + s.decay * step);
    case 'cosine': {
      const w = warmupSteps(s, stepsPerEpoch, totalSteps);
      if (step < w) return (lr * (step + 1)) / w;
      const progress = Math.min(1, (step - w) / Math.max(1, totalSteps - w));
      return s.minLr + ((lr - s.minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

/** One line for logs and reports, e.g. "cosine (warm-up 40 steps, to 0)". */
export function describeSchedule(s: Schedule, stepsPerEpoch?: number, totalSteps?: number): string {
  switch (s.name) {
    case 'step':
      return `step (x${s.decay} per epoch)`;
    case 'inverse-time':
      return `inverse-time (lr / (1 + ${s.decay} t))`;
    case 'cosine': {
      const w =
        s.warmupSteps !== undefined
          ? `${s.warmupSteps} steps`
          : s.warmupEpochs !== undefined
            ? `${s.warmupEpochs} epochs`
            : stepsPerEpoch && totalSteps
              ? `${warmupSteps(s, stepsPerEpoch, totalSteps)} steps`
              : `${DEFAULT_WARMUP_FRACTION * 100}% of steps`;
      return `cosine (warm-up ${w}, to ${s.minLr})`;
    }
  }
}
