import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { uniform } from './resample.ts';

/**
 * Small rotation by an angle drawn uniformly in [-degrees, degrees] (one draw), about the image
 * centre, bilinear, edges replicated (no black corners that would mark the rotation). Positive
 * angles turn counter-clockwise, like rotate90 with k = 1.
 */
export const rotateOptions = z
  .object({
    name: z.literal('rotate'),
    degrees: z.number().min(0).max(45).default(10),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type RotateOptions = z.infer<typeof rotateOptions>;

/** The image turned counter-clockwise by `degrees`. */
export function rotateBy(img: Image, degrees: number): Image {
  const { size } = img;
  const c = (size - 1) / 2;
  const cos = Math.cos((degrees * Math.PI) / 180);
  const sin = Math.sin((degrees * Math.PI) / 180);
  const src = img.pixels;
  const n = size - 1;
  const pixels = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) {
    const dy = i - c;
    for (let j = 0; j < size; j++) {
      const dx = j - c;
      // output (i, j) reads the input at the point the rotation brought here: bilinear(), inlined
      const y = Math.min(n, Math.max(0, c + cos * dy + sin * dx));
      const x = Math.min(n, Math.max(0, c + cos * dx - sin * dy));
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const o0 = y0 * size;
      const o1 = Math.min(n, y0 + 1) * size;
      const x1 = Math.min(n, x0 + 1);
      const fx = x - x0;
      const a = src[o0 + x0] + (src[o0 + x1] - src[o0 + x0]) * fx;
      const b = src[o1 + x0] + (src[o1 + x1] - src[o1 + x0]) * fx;
      pixels[i * size + j] = Math.round(a + (b - a) * (y - y0));
    }
  }
  return { pixels, size };
}

export function smallRotation(img: Image, rng: Rng, o: RotateOptions): Image {
  return rotateBy(img, uniform(() => rng.next(), -o.degrees, o.degrees));
}
