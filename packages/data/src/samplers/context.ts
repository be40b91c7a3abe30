import { z } from 'zod';
import { augmentList } from '../augment/index.ts';
import type { Image, Rng, SamplePlan } from '../types.ts';
import { beforeGridOption, checkImage, grid, gridPatchOption, jitteredCorner, patchViews } from './geometry.ts';
import type { PretextTask } from './task.ts';
import { augmentedView } from './views.ts';

/**
 * Context / relative patch location (Doersch et al. 2015): the centre patch of a 3x3 grid and one
 * of its 8 neighbours; predict which neighbour. Views: [centre, neighbour]. Labels number the
 * neighbours in row-major order, skipping the centre:
 *     0 1 2
 *     3 . 4
 *     5 6 7
 * RNG draws, in order: the whole-image augmentations of `before` (none by default), label, centre
 * (y, x) jitter, neighbour (y, x) jitter, then the augmentations of each view (none by default: the
 * study's task; e.g. per-patch intensity jitter or standardisation against shortcuts, docs/SHORTCUTS.md).
 */
export const contextOptions = z
  .object({ patch: gridPatchOption, before: beforeGridOption, augment: augmentList.default(() => []) })
  .strict();
export type ContextOptions = z.infer<typeof contextOptions>;

/** (row, col) of neighbour label 0..7 */
export const CONTEXT_NEIGHBOURS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [0, 1],
  [0, 2],
  [1, 0],
  [1, 2],
  [2, 0],
  [2, 1],
  [2, 2],
];

const NEIGHBOUR_NAMES = ['top-left', 'top', 'top-right', 'left', 'right', 'bottom-left', 'bottom', 'bottom-right'];

export const context: PretextTask<ContextOptions> = {
  name: 'context',
  options: contextOptions,
  classes: () => 8,
  shape: (size, opts) => ({ views: 2, patch: grid(size, opts.patch).patch }),
  describe: (y) => `neighbour ${y}: ${NEIGHBOUR_NAMES[y]} of the centre`,
  plan(img: Image, rng: Rng, opts: ContextOptions): SamplePlan {
    checkImage(img.pixels, img.size, 'context');
    const whole = augmentedView(img, rng, opts.before);
    const g = grid(whole.size, opts.patch);
    const int = (n: number) => rng.int(n);
    const y = rng.int(8);
    const centre = jitteredCorner(g, 1, 1, int);
    const [nr, nc] = CONTEXT_NEIGHBOURS[y];
    const neighbour = jitteredCorner(g, nr, nc, int);
    return { views: patchViews(whole, [centre, neighbour], g.patch, rng, opts.augment), y };
  },
};
