import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { body } from './body.ts';
import { crop } from './crop.ts';
import { flip } from './flip.ts';
import { PIXEL_OPS } from './pixel-ops.ts';
import { ViewBuilder } from './plan.ts';
import { renderView } from './render.ts';
import { rotate } from './rotate.ts';

/**
 * Training-time augmentations by name: each one file (options, plan function, and for a pixel op
 * its TypeScript renderer; the torch renderer of a pixel op is cxr_torch/render/<name>.py), chosen
 * by `name` in a list applied in order. Each entry has a probability `p`: when p < 1 one uniform is
 * drawn first and the augmentation is planned if it is below p. Adding one = its file + one line:
 * here for a geometric one; in pixel-ops.ts for a pixel op (+ its torch file and one line in
 * cxr_torch/render/__init__.py).
 */
export const AUGMENTATIONS = { crop, rotate, flip, body, ...PIXEL_OPS };
type Entry = (typeof AUGMENTATIONS)[keyof typeof AUGMENTATIONS];

export const Augment = z.discriminatedUnion(
  'name',
  Object.values(AUGMENTATIONS).map((a) => a.options) as unknown as [Entry['options'], ...Entry['options'][]],
);
export type Augment = z.infer<typeof Augment>;
export const augmentList = z.array(Augment).describe('training-time augmentations, applied in order');

/** Plans the list on a view, in order; a pixel op skipped by its p stays in the plan, switched off. */
export function planAugment(view: ViewBuilder, rng: Rng, list: readonly Augment[]): void {
  for (const a of list) {
    const entry = AUGMENTATIONS[a.name] as unknown as { plan(v: ViewBuilder, r: Rng, o: Augment): void; pixels?: { params: readonly string[] } };
    if (a.p < 1 && rng.next() >= a.p) {
      if (entry.pixels) view.pixel(a.name, null, entry.pixels.params.length);
      continue;
    }
    entry.plan(view, rng, a);
  }
}

/** The list applied to one image and painted by the TypeScript renderer (samples, tests, probes). */
export function augment(img: Image, rng: Rng, list: readonly Augment[]): Image {
  const view = new ViewBuilder(img);
  planAugment(view, rng, list);
  return { pixels: renderView(view.plan(), img), size: view.size };
}
