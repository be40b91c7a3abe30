import { z } from 'zod';
import { augmentation, uniform } from './augmentation.ts';
import type { Affine } from './plan.ts';


/**
 * Small rotation by an angle drawn uniformly in [-degrees, degrees] (one draw), about the view's
 * centre, bilinear, edges replicated (no black corners that would mark the rotation). Positive
 * angles turn counter-clockwise, like a quarter turn with k = 1.
 */
export const rotateOptions = z
  .object({
    name: z.literal('rotate'),
    degrees: z.number().min(0).max(45).default(10),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type RotateOptions = z.infer<typeof rotateOptions>;

/** Out (i, j) -> the point of a size x size view that a counter-clockwise turn by `degrees` about its centre brings there. */
export function rotationMap(size: number, degrees: number): Affine {
  const c = (size - 1) / 2;
  const cos = Math.cos((degrees * Math.PI) / 180);
  const sin = Math.sin((degrees * Math.PI) / 180);
  // y = c + cos (i - c) + sin (j - c), x = c + cos (j - c) - sin (i - c)
  return [cos, sin, c - c * cos - c * sin, -sin, cos, c - c * cos + c * sin];
}

export const rotate = augmentation({
  options: rotateOptions,
  plan(view, rng, o) {
    view.geometry(rotationMap(view.size, uniform(() => rng.next(), -o.degrees, o.degrees)));
  },
});
