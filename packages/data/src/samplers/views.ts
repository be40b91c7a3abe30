import { type Augment, augmentList } from '../augment/index.ts';
import { boxMap, ViewBuilder } from '../augment/plan.ts';
import { planAugment } from '../augment/registry.ts';
import type { Image, Rng, SamplePlan, SampleShape } from '../types.ts';
import { checkImage } from './geometry.ts';

/**
 * The default augmentations of contrastive views, adapted to chest X-rays: a random resized crop
 * milder than SimCLR's 8-100 % (a crop must still show lung), intensity jitter instead of colour
 * jitter (grey images), small rotations, some blur and noise. No flip: anatomy is lateralised
 * (the heart is on the left), so a flipped film is not the same patient.
 */
export const contrastiveAugment = (): Augment[] => [
  { name: 'crop', scale: [0.3, 1], ratio: [3 / 4, 4 / 3], p: 1 },
  { name: 'rotate', degrees: 10, p: 0.5 },
  { name: 'intensity', brightness: 0.4, contrast: 0.4, gamma: 0.3, p: 0.8 },
  { name: 'blur', sigma: [0.1, 1.5], p: 0.5 },
  { name: 'noise', std: 6, p: 0.3 },
];
export const contrastiveAugmentList = augmentList.default(contrastiveAugment);

/** One view of the whole image seen at `size` px (default its own), with `list` planned on it. */
export function augmentedView(img: Image, rng: Rng, list: readonly Augment[], size = img.size): ViewBuilder {
  const view = new ViewBuilder(img);
  if (size !== img.size) view.geometry(boxMap(0, 0, img.size, img.size, size), size);
  planAugment(view, rng, list);
  return view;
}

/**
 * `count` views of the whole image, each augmented independently; no label (the views are each
 * other's targets). RNG draws: the augmentations of view 0, then of view 1, ...
 */
export function augmentedViews(count: number) {
  return {
    augmentMakesViews: true,
    shape: (size: number): SampleShape => ({ views: count, patch: size }),
    describe: () => `${count} augmented views of one image`,
    plan(img: Image, rng: Rng, opts: { augment: Augment[] }): SamplePlan {
      checkImage(img.pixels, img.size, 'augmented views');
      return { views: Array.from({ length: count }, () => augmentedView(img, rng, opts.augment).plan()) };
    },
  };
}
