import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { blurOptions, gaussianBlur } from './blur.ts';
import { bodyCrop, bodyOptions } from './body.ts';
import { cropOptions, randomResizedCrop } from './crop.ts';
import { flipOptions, hflip } from './flip.ts';
import { intensityJitter, intensityOptions } from './intensity.ts';
import { maskEdges, maskOptions } from './mask.ts';
import { gaussianNoise, noiseOptions } from './noise.ts';
import { rotateOptions, smallRotation } from './rotate.ts';
import { standardize, standardizeOptions } from './standardize.ts';

export * from './blur.ts';
export * from './body.ts';
export * from './crop.ts';
export * from './flip.ts';
export * from './intensity.ts';
export * from './mask.ts';
export * from './noise.ts';
export * from './resample.ts';
export * from './rotate.ts';
export * from './standardize.ts';

/**
 * Training-time augmentations: each a pure function of (S x S uint8 view, rng) -> new view (the
 * input is never modified), chosen by `name` in a list that is applied in order. Each entry has a
 * probability `p`: when p < 1 one uniform is drawn first and the transform runs if it is below p.
 * Adding one = one file here + one line in each list below.
 */
export const Augment = z.discriminatedUnion('name', [
  cropOptions,
  intensityOptions,
  rotateOptions,
  blurOptions,
  noiseOptions,
  flipOptions,
  standardizeOptions,
  bodyOptions,
  maskOptions,
]);
export type Augment = z.infer<typeof Augment>;
export const augmentList = z.array(Augment).describe('training-time augmentations, applied in order');

const APPLY: { [K in Augment['name']]: (img: Image, rng: Rng, o: Extract<Augment, { name: K }>) => Image } = {
  crop: randomResizedCrop,
  intensity: intensityJitter,
  rotate: smallRotation,
  blur: gaussianBlur,
  noise: gaussianNoise,
  flip: hflip,
  standardize: (img, _rng, o) => standardize(img, o),
  body: (img, _rng, o) => bodyCrop(img, o),
  mask: (img, _rng, o) => maskEdges(img, o),
};

export function augment(img: Image, rng: Rng, list: readonly Augment[]): Image {
  let out = img;
  for (const a of list) {
    if (a.p < 1 && rng.next() >= a.p) continue;
    out = (APPLY[a.name] as (img: Image, rng: Rng, o: Augment) => Image)(out, rng, a);
  }
  return out;
}

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
