import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { bilinear, uniform } from './resample.ts';

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
  const pixels = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) {
    const dy = i - c;
    for (let j = 0; j < size; j++) {
      const dx = j - c;
      // output (i, j) reads the input at the point the rotation brought here
      pixels[i * size + j] = Math.round(bilinear(img.pixels, size, c + cos * dy + sin * dx, c + cos * dx - sin * dy));
    }
  }
  return { pixels, size };
}

export function smallRotation(img: Image, rng: Rng, o: RotateOptions): Image {
  return rotateBy(img, uniform(() => rng.next(), -o.degrees, o.degrees));
}
