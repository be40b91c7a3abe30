import { z } from 'zod';
import { augmentList, wholeImageAugment } from '../augment/index.ts';
import type { Image, Rng, SamplePlan } from '../types.ts';
import { checkImage } from './geometry.ts';
import type { PretextTask } from './task.ts';
import { augmentedView } from './views.ts';

/**
 * Rotation (Gidaris et al. 2018): the whole image rotated counter-clockwise by k * 90 degrees,
 * label k in 0..3. Same convention as numpy.rot90(img, k): for k = 1 the pixel at (row r, col c)
 * lands at (S - 1 - c, r). The image is augmented first (default: random crop of 50-100% of the
 * area + intensity jitter, so borders, markers and exposure do not give k away); the turn is folded
 * into the view's last map (plan.ts quarterTurn). RNG draws, in order: k, then the augmentations'.
 */
export const rotationOptions = z.object({ augment: augmentList.default(wholeImageAugment) }).strict();
export type RotationOptions = z.infer<typeof rotationOptions>;

/** A size x size image turned by k quarter turns, exactly (numpy.rot90's convention). */
export function rotate90(src: Uint8Array, size: number, k: number, dst = new Uint8Array(size * size)): Uint8Array {
  const n = size - 1;
  switch (((k % 4) + 4) % 4) {
    case 0:
      dst.set(src);
      break;
    case 1: // out[i][j] = in[j][n - i]
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) dst[i * size + j] = src[j * size + (n - i)];
      break;
    case 2: // out[i][j] = in[n - i][n - j]
      for (let i = 0, o = 0; i < size; i++) for (let j = 0; j < size; j++, o++) dst[o] = src[(n - i) * size + (n - j)];
      break;
    case 3: // out[i][j] = in[n - j][i]
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) dst[i * size + j] = src[(n - j) * size + i];
      break;
  }
  return dst;
}

export const rotation: PretextTask<RotationOptions> = {
  name: 'rotation',
  options: rotationOptions,
  classes: () => 4,
  shape: (size) => ({ views: 1, patch: size }),
  describe: (y) => `rotated ${y * 90} deg (k=${y})`,
  plan(img: Image, rng: Rng, opts: RotationOptions): SamplePlan {
    checkImage(img.pixels, img.size, 'rotation');
    const k = rng.int(4);
    const view = augmentedView(img, rng, opts.augment);
    view.quarterTurn(k);
    return { views: [view.plan()], y: k };
  },
};
