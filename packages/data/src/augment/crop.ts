import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { bilinear, uniform } from './resample.ts';

/**
 * Random resized crop (Szegedy et al.; torchvision's RandomResizedCrop): a box of area
 * U(scale) x S^2 and aspect ratio w/h log-uniform in `ratio`, placed uniformly, resized back to
 * S x S (bilinear). Up to 10 tries for a box that fits, else the whole image. Moves borders and
 * markers around and changes the apparent scale of the anatomy.
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

/** The box (top, left, h, w) of an S x S image, drawn as described above. */
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

/** The h x w box at (top, left) resized to out x out, bilinear with half-pixel centres (as cv2 / torch align_corners=False). */
export function resizedCrop(img: Image, top: number, left: number, h: number, w: number, out = img.size): Image {
  const pixels = new Uint8Array(out * out);
  for (let i = 0; i < out; i++) {
    const y = top + ((i + 0.5) * h) / out - 0.5;
    for (let j = 0; j < out; j++) {
      const x = left + ((j + 0.5) * w) / out - 0.5;
      pixels[i * out + j] = Math.round(bilinear(img.pixels, img.size, y, x, top, left, top + h - 1, left + w - 1));
    }
  }
  return { pixels, size: out };
}

export function randomResizedCrop(img: Image, rng: Rng, o: CropOptions): Image {
  const [top, left, h, w] = cropBox(img.size, rng, o);
  return resizedCrop(img, top, left, h, w);
}
