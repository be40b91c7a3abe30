import type { Augment } from './registry.ts';

export * from './augmentation.ts';
export * from './blur.ts';
export * from './body.ts';
export * from './crop.ts';
export * from './flip.ts';
export * from './intensity.ts';
export * from './mask.ts';
export * from './noise.ts';
export * from './pixel-ops.ts';
export * from './plan.ts';
export * from './registry.ts';
export * from './render.ts';
export * from './rotate.ts';
export * from './standardize.ts';

/** Transforms that draw nothing from the rng (at p = 1): they define what a task sees, so evaluation keeps them. */
const DETERMINISTIC = new Set<Augment['name']>(['standardize', 'body', 'mask']);

/**
 * A task's options as held-out evaluation samples them: the random augmentations of `augment` and
 * `before` off, the deterministic transforms (standardize, body, mask) kept, so a network trained on
 * masked or standardised views is scored on the same kind of view.
 */
export function evalTaskOptions(opts: Record<string, unknown>): Record<string, unknown> {
  const keep = (list: unknown) => (list as Augment[]).filter((a) => DETERMINISTIC.has(a.name) && (a.p ?? 1) === 1);
  return {
    ...opts,
    augment: Array.isArray(opts.augment) ? keep(opts.augment) : [],
    ...(Array.isArray(opts.before) ? { before: keep(opts.before) } : {}),
  };
}

/**
 * The default for whole-image tasks (rotation): a random crop of 50-100% of the area and intensity
 * jitter, so that neither the position of borders and burnt-in markers nor the exposure gives the
 * label away. Blur, noise, small rotations and flips are available but off.
 */
export const wholeImageAugment = (): Augment[] => [
  { name: 'crop', scale: [0.5, 1], ratio: [3 / 4, 4 / 3], p: 1 },
  { name: 'intensity', brightness: 0.2, contrast: 0.2, gamma: 0.2, p: 1 },
];
