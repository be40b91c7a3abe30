import { z } from 'zod';
import { augmentation } from './augmentation.ts';

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

export const flip = augmentation({
  options: flipOptions,
  plan(view) {
    view.geometry([1, 0, 0, 0, -1, view.size - 1]);
  },
});
