import { z } from 'zod';
import type { PretextTask } from './task.ts';
import { augmentedViews, contrastiveAugmentList } from './views.ts';

/**
 * MoCo v2 (He et al. 2020; Chen et al. 2020): view 0 is the query, view 1 the key, encoded by a
 * momentum copy of the network; negatives are the keys of earlier batches kept in a queue (InfoNCE).
 */
export const mocoSamplerOptions = z.object({ augment: contrastiveAugmentList }).strict();
export type MocoSamplerOptions = z.infer<typeof mocoSamplerOptions>;

/** The loss's options (temperature, queue, momentum, shuffle groups) are the method's: train/src/methods/moco.ts. */
export const moco: PretextTask<MocoSamplerOptions> = { name: 'moco', options: mocoSamplerOptions, ...augmentedViews(2) };
