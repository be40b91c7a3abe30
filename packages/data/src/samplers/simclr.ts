import { z } from 'zod';
import type { PretextTask } from './task.ts';
import { augmentedViews, contrastiveAugmentList } from './views.ts';

/**
 * SimCLR (Chen et al. 2020): two augmented views of each image; the other view is the positive,
 * the other 2B - 2 views of the batch the negatives (NT-Xent).
 */
export const simclrOptions = z
  .object({
    augment: contrastiveAugmentList,
    /** NT-Xent temperature (the paper's best for batch sizes below 1024: 0.1-0.2) */
    temperature: z.number().positive().default(0.2),
  })
  .strict();
export type SimclrOptions = z.infer<typeof simclrOptions>;

export const simclr: PretextTask<SimclrOptions> = { name: 'simclr', options: simclrOptions, ...augmentedViews(2) };
