import { z } from 'zod';
import type { PretextTask } from './task.ts';
import { augmentedViews, contrastiveAugmentList } from './views.ts';

/**
 * BYOL (Grill et al. 2020): two augmented views of each image; each view's online prediction is
 * pulled towards the target network's projection of the other. No negatives, no label.
 */
export const byolSamplerOptions = z.object({ augment: contrastiveAugmentList }).strict();
export type ByolSamplerOptions = z.infer<typeof byolSamplerOptions>;

export const byol: PretextTask<ByolSamplerOptions> = { name: 'byol', options: byolSamplerOptions, ...augmentedViews(2) };
