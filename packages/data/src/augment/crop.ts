import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { uniform } from './resample.ts';

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
  // separable: the column taps are the same for every row, so they are computed once (same arithmetic as bilinear())
  const src = img.pixels;
  const S = img.size;
  const x0 = new Int32Array(out);
  const x1 = new Int32Array(out);
  const fx = new Float64Array(out);
  for (let j = 0; j < out; j++) {
    const x = Math.min(left + w - 1, Math.max(left, left + ((j + 0.5) * w) / out - 0.5));
    x0[j] = Math.floor(x);
    x1[j] = Math.min(left + w - 1, x0[j] + 1);
    fx[j] = x - x0[j];
  }
  const pixels = new Uint8Array(out * out);
  for (let i = 0; i < out; i++) {
    const y = Math.min(top + h - 1, Math.max(top, top + ((i + 0.5) * h) / out - 0.5));
    const r0 = Math.floor(y);
    const fy = y - r0;
    const o0 = r0 * S;
    const o1 = Math.min(top + h - 1, r0 + 1) * S;
    for (let j = 0; j < out; j++) {
      const a = src[o0 + x0[j]] + (src[o0 + x1[j]] - src[o0 + x0[j]]) * fx[j];
      const b = src[o1 + x0[j]] + (src[o1 + x1[j]] - src[o1 + x0[j]]) * fx[j];
      pixels[i * out + j] = Math.round(a + (b - a) * fy);
    }
  }
  return { pixels, size: out };
}

export function randomResizedCrop(img: Image, rng: Rng, o: CropOptions): Image {
  const [top, left, h, w] = cropBox(img.size, rng, o);
  return resizedCrop(img, top, left, h, w);
}
