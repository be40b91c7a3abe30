import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { blurOptions, gaussianBlur } from './blur.ts';
import { cropOptions, randomResizedCrop } from './crop.ts';
import { flipOptions, hflip } from './flip.ts';
import { intensityJitter, intensityOptions } from './intensity.ts';
import { gaussianNoise, noiseOptions } from './noise.ts';
import { rotateOptions, smallRotation } from './rotate.ts';

export * from './blur.ts';
export * from './crop.ts';
export * from './flip.ts';
export * from './intensity.ts';
export * from './noise.ts';
export * from './resample.ts';
export * from './rotate.ts';

/**
 * Training-time augmentations: each a pure function of (S x S uint8 view, rng) -> new view (the
 * input is never modified), chosen by `name` in a list that is applied in order. Each entry has a
 * probability `p`: when p < 1 one uniform is drawn first and the transform runs if it is below p.
 * Adding one = one file here + one line in each list below.
 */
export const Augment = z.discriminatedUnion('name', [cropOptions, intensityOptions, rotateOptions, blurOptions, noiseOptions, flipOptions]);
export type Augment = z.infer<typeof Augment>;
export const augmentList = z.array(Augment).describe('training-time augmentations, applied in order');

const APPLY: { [K in Augment['name']]: (img: Image, rng: Rng, o: Extract<Augment, { name: K }>) => Image } = {
  crop: randomResizedCrop,
  intensity: intensityJitter,
  rotate: smallRotation,
  blur: gaussianBlur,
  noise: gaussianNoise,
  flip: hflip,
};

export function augment(img: Image, rng: Rng, list: readonly Augment[]): Image {
  let out = img;
  for (const a of list) {
    if (a.p < 1 && rng.next() >= a.p) continue;
    out = (APPLY[a.name] as (img: Image, rng: Rng, o: Augment) => Image)(out, rng, a);
  }
  return out;
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
