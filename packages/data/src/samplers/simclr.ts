import { z } from 'zod';
import type { PretextTask } from './task.ts';
import { augmentedViews, contrastiveAugmentList } from './views.ts';

/**
 * SimCLR (Chen et al. 2020): two augmented views of each image; the other view is the positive,
 * the other 2B - 2 views of the batch the negatives (NT-Xent).
 */
export const simclrSamplerOptions = z.object({ augment: contrastiveAugmentList }).strict();
export type SimclrSamplerOptions = z.infer<typeof simclrSamplerOptions>;

/** The loss's options (the temperature) are the method's: train/src/methods/simclr.ts. */
export const simclr: PretextTask<SimclrSamplerOptions> = { name: 'simclr', options: simclrSamplerOptions, ...augmentedViews(2) };
