import { z } from 'zod';
import type { Image } from '../types.ts';

/**
 * Horizontal flip. Not in any default: chest anatomy is lateralised (heart on the left), so a
 * flipped X-ray is not a plausible X-ray. Its `p` is the flip probability (default 0.5).
 */
export const flipOptions = z
  .object({
    name: z.literal('flip'),
    p: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type FlipOptions = z.infer<typeof flipOptions>;

export function hflip(img: Image): Image {
  const { size } = img;
  const pixels = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) pixels[i * size + j] = img.pixels[i * size + size - 1 - j];
  return { pixels, size };
}
