import { z } from 'zod';
import type { Image, Rng, SamplePlan } from '../types.ts';
import { augmentList } from '../augment/index.ts';
import { beforeGridOption, checkImage, grid, gridPatchOption, jitteredCorner, patchViews } from './geometry.ts';
import { permutationSet, validatePermutationSet } from './permutations.ts';
import type { PretextTask } from './task.ts';
import { augmentedView } from './views.ts';

/**
 * Jigsaw (Noroozi & Favaro 2016): a random `patch` crop inside each cell of the 3x3 grid
 * (cells numbered 0..8 row-major), shuffled by permutation p of the set; label = p.
 * View i is the tile cut from cell perm[i]. RNG draws, in order: the whole-image augmentations of
 * `before` (none by default), p, then (y, x) jitter for cells 0..8, then the augmentations of each
 * tile (none by default). `permutations` is either the set itself (number[][], as saved with a run) or a
 * count n, meaning permutationSet(n, permutationSeed) (memoised: computed once per process).
 */
export const jigsawOptions = z
  .object({
    patch: gridPatchOption,
    before: beforeGridOption,
    permutations: z
      .union([z.number().int().min(2).max(362_880), z.array(z.array(z.number().int())).min(2)])
      .default(100),
    /** seed of the set when `permutations` is a count (default 0; a pretext run uses its own seed) */
    permutationSeed: z.number().int().optional(),
    augment: augmentList.default(() => []),
  })
  .strict();
export type JigsawOptions = z.infer<typeof jigsawOptions>;

const checked = new WeakSet<object>();

export function jigsawSet(opts: Pick<JigsawOptions, 'permutations' | 'permutationSeed'>): number[][] {
  const p = opts.permutations ?? 100;
  if (Array.isArray(p)) {
    if (!checked.has(p)) {
      validatePermutationSet(p);
      checked.add(p);
    }
    return p;
  }
  return permutationSet(p, opts.permutationSeed ?? 0);
}

export const jigsaw: PretextTask<JigsawOptions> = {
  name: 'jigsaw',
  options: jigsawOptions,
  classes: (opts) => {
    const p = opts.permutations ?? 100;
    return Array.isArray(p) ? p.length : p;
  },
  shape: (size, opts) => ({ views: 9, patch: grid(size, opts.patch).patch }),
  resolve: (opts) => ({ ...opts, permutations: jigsawSet(opts) }),
  derive: (opts, seed) => ({ ...opts, permutations: jigsawSet({ ...opts, permutationSeed: opts.permutationSeed ?? seed }) }),
  describe: (y, opts) => `permutation ${y}: tiles from cells ${jigsawSet(opts)[y].join(' ')}`,
  plan(img: Image, rng: Rng, opts: JigsawOptions): SamplePlan {
    checkImage(img.pixels, img.size, 'jigsaw');
    const whole = augmentedView(img, rng, opts.before);
    const g = grid(whole.size, opts.patch);
    const set = jigsawSet(opts);
    const y = rng.int(set.length);
    const int = (n: number) => rng.int(n);
    const corners = Array.from({ length: 9 }, (_, c) => jitteredCorner(g, Math.floor(c / 3), c % 3, int));
    return { views: patchViews(whole, set[y].map((cell) => corners[cell]), g.patch, rng, opts.augment), y };
  },
};
