import { z } from 'zod';
import { augmentList, boxMap, type Augment } from '../augment/index.ts';
import type { Image, Rng, SamplePlan, SampleShape } from '../types.ts';
import { checkImage } from './geometry.ts';
import type { PretextTask } from './task.ts';
import { augmentedView, contrastiveAugment } from './views.ts';

/** The contrastive augmentations with another crop scale (DINO: 0.4-1 for global crops, 0.05-0.4 for local ones). */
const withCropScale = (scale: [number, number]) => () => contrastiveAugment().map((a): Augment => (a.name === 'crop' ? { ...a, scale } : a));

/**
 * DINO's multi-crop (Caron et al. 2021): 2 global crops at the image size, then `localCrops` small
 * crops of a smaller part of the image, augmented at the image size, then resized to `localSize` x the
 * image size (the paper: 96 of 224). No label. RNG draws: global crop 0's augmentations, global crop
 * 1's, then each local crop's.
 */
export const dinoSamplerOptions = z
  .object({
    augment: augmentList.default(withCropScale([0.4, 1])),
    localAugment: augmentList.default(withCropScale([0.1, 0.4])),
    localCrops: z.number().int().min(0).default(4),
    localSize: z.number().gt(0).max(1).default(0.5),
  })
  .strict();
export type DinoSamplerOptions = z.infer<typeof dinoSamplerOptions>;

export const dino: PretextTask<DinoSamplerOptions> = {
  name: 'dino',
  options: dinoSamplerOptions,
  augmentMakesViews: true,
  shape: (size, o): SampleShape => ({ views: 2, patch: size, ...(o.localCrops > 0 ? { local: { views: o.localCrops, patch: Math.round(size * o.localSize) } } : {}) }),
  describe: (_y, o) => `2 global + ${o.localCrops} local crops of one image`,
  plan(img: Image, rng: Rng, o: DinoSamplerOptions): SamplePlan {
    checkImage(img.pixels, img.size, 'dino');
    const small = Math.round(img.size * o.localSize);
    const views = [0, 1].map(() => augmentedView(img, rng, o.augment).plan());
    const local = Array.from({ length: o.localCrops }, () => {
      const view = augmentedView(img, rng, o.localAugment);
      view.geometry(boxMap(0, 0, img.size, img.size, small), small); // after a pixel op: a stage of its own
      return view.plan();
    });
    return local.length ? { views, local } : { views };
  },
};
