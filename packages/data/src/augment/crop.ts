import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { augmentation, uniform } from './augmentation.ts';
import { boxMap } from './plan.ts';
import { sampleAffine } from './render.ts';


/**
 * Random resized crop (Szegedy et al.; torchvision's RandomResizedCrop): a box of area
 * U(scale) x S^2 and aspect ratio w/h log-uniform in `ratio`, placed uniformly, resized back to
 * S x S (bilinear, half-pixel centres). Up to 10 tries for a box that fits, else the whole view.
 * Moves borders and markers around and changes the apparent scale of the anatomy.
 * RNG draws per try: area, log-ratio; then top, left.
 */
export const cropOptions = z
  .object({
    name: z.literal('crop'),
    scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.5, 1]),
    ratio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
    p: z.number().min(0).max(1).default(1),
  })
  .strict()
  .refine((o) => o.scale[0] <= o.scale[1] && o.ratio[0] <= o.ratio[1], { message: 'scale and ratio are [min, max] ranges' });
export type CropOptions = z.infer<typeof cropOptions>;

/** The box (top, left, h, w) of an S x S view, drawn as described above. */
export function cropBox(size: number, rng: Rng, o: Pick<CropOptions, 'scale' | 'ratio'>): [number, number, number, number] {
  const next = () => rng.next();
  for (let i = 0; i < 10; i++) {
    const area = size * size * uniform(next, o.scale[0], o.scale[1]);
    const ar = Math.exp(uniform(next, Math.log(o.ratio[0]), Math.log(o.ratio[1])));
    const w = Math.round(Math.sqrt(area * ar));
    const h = Math.round(Math.sqrt(area / ar));
    if (w >= 1 && h >= 1 && w <= size && h <= size) return [rng.int(size - h + 1), rng.int(size - w + 1), h, w];
  }
  return [0, 0, size, size];
}

/** The h x w box at (top, left) of an image, resized to out x out by the renderer's sampler. */
export function resizedCrop(img: Image, top: number, left: number, h: number, w: number, out = img.size): Image {
  const v = sampleAffine(img.pixels, img.size, boxMap(top, left, h, w, out), out);
  return { pixels: Uint8Array.from(v, (x) => Math.round(x)), size: out };
}

export const crop = augmentation({
  options: cropOptions,
  plan(view, rng, o) {
    const [top, left, h, w] = cropBox(view.size, rng, o);
    view.geometry(boxMap(top, left, h, w, view.size));
  },
});
