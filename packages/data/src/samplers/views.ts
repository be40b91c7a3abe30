import { augment, augmentList, type Augment } from '../augment/index.ts';
import type { Image, Rng, Sample, SampleShape } from '../types.ts';
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

/**
 * `count` views of the whole image, each augmented independently; no label (the views are each
 * other's targets). RNG draws: the augmentations of view 0, then of view 1, ...
 */
export function augmentedViews(count: number) {
  return {
    augmentMakesViews: true,
    shape: (size: number): SampleShape => ({ views: count, patch: size }),
    describe: () => `${count} augmented views of one image`,
    sample(img: Image, rng: Rng, opts: { augment: Augment[] }): Sample {
      checkImage(img.pixels, img.size, 'augmented views');
      const area = img.size * img.size;
      const x = new Uint8Array(count * area);
      for (let v = 0; v < count; v++) x.set(augment(img, rng, opts.augment).pixels, v * area);
      return { x };
    },
  };
}
