import { z } from 'zod';
import type { PretextTask } from './task.ts';
import { augmentedViews, contrastiveAugmentList } from './views.ts';

/**
 * MoCo v2 (He et al. 2020; Chen et al. 2020): view 0 is the query, view 1 the key, encoded by a
 * momentum copy of the network; negatives are the keys of earlier batches kept in a queue (InfoNCE).
 */
export const mocoOptions = z
  .object({
    augment: contrastiveAugmentList,
    temperature: z.number().positive().default(0.2),
    /** keys kept as negatives; MoCo's 65,536 is for ImageNet: keep it below the train split's size */
    queue: z.number().int().min(1).default(1024),
    /** key encoder <- momentum * key + (1 - momentum) * query, after every step */
    momentum: z.number().min(0).max(1).default(0.99),
    /** one-device stand-in for MoCo's shuffled BN: keys are encoded in this many sub-batches, rolled
     * by one so that a query and its key never share BatchNorm batch statistics (1 = off) */
    shuffleGroups: z.number().int().min(1).default(2),
  })
  .strict();
export type MocoOptions = z.infer<typeof mocoOptions>;

export const moco: PretextTask<MocoOptions> = { name: 'moco', options: mocoOptions, ...augmentedViews(2) };
