import { z } from 'zod';
import type { Image } from '../types.ts';

/**
 * Masks the edge of the view with grey level `fill`: `circle` keeps the disc inscribed in the view,
 * `frame` blanks a border `width` x S wide. Both are unchanged by quarter turns, so for rotation
 * the corners and edges (where burnt-in markers, collimator edges and dark margins sit) no longer
 * tell the turn apart. No RNG draws.
 */
export const maskOptions = z
  .object({
    name: z.literal('mask'),
    shape: z.enum(['circle', 'frame']).default('circle'),
    width: z.number().gt(0).lt(0.5).default(0.1),
    fill: z.number().int().min(0).max(255).default(0),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type MaskOptions = z.infer<typeof maskOptions>;

/** Whether pixel (i, j) of a size x size view is kept. Symmetric under (i, j) -> (n - j, i). */
export function maskKeeps(size: number, o: Pick<MaskOptions, 'shape' | 'width'>): (i: number, j: number) => boolean {
  const c = (size - 1) / 2;
  if (o.shape === 'circle') {
    const r2 = (size / 2) ** 2;
    return (i, j) => (i - c) ** 2 + (j - c) ** 2 <= r2;
  }
  const w = Math.max(1, Math.round(o.width * size));
  return (i, j) => i >= w && j >= w && i < size - w && j < size - w;
}

export function maskEdges(img: Image, o: Pick<MaskOptions, 'shape' | 'width' | 'fill'>): Image {
  const { size } = img;
  const keeps = maskKeeps(size, o);
  const pixels = img.pixels.slice();
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) if (!keeps(i, j)) pixels[i * size + j] = o.fill;
  return { pixels, size };
}
