import { z } from 'zod';
import { augmentation } from './augmentation.ts';

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

/** Whether pixel (i, j) of a size x size view is kept; `frame` is the border in px (0: circle). Symmetric under (i, j) -> (n - j, i). */
export function maskKeeps(size: number, frame: number): (i: number, j: number) => boolean {
  const c = (size - 1) / 2;
  if (frame === 0) {
    const r2 = (size / 2) ** 2;
    return (i, j) => (i - c) ** 2 + (j - c) ** 2 <= r2;
  }
  return (i, j) => i >= frame && j >= frame && i < size - frame && j < size - frame;
}

export const mask = augmentation({
  options: maskOptions,
  plan(view, _rng, o) {
    // the border in whole px, fixed here so both renderers cut the same one
    view.pixel('mask', [o.shape === 'circle' ? 0 : Math.max(1, Math.round(o.width * view.size)), o.fill], 2);
  },
  pixels: {
    params: ['frame', 'fill'],
    render(v, size, [frame, fill]) {
      const keeps = maskKeeps(size, frame);
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) if (!keeps(i, j)) v[i * size + j] = fill;
    },
  },
});
