import type { z } from 'zod';
import { renderView } from '../augment/render.ts';
import type { Image, Rng, Sample, Sampler } from '../types.ts';

/**
 * A method's sampler plus the zod schema of the method's options (the data side of one registry
 * entry). The schema holds every option of the method, the loss's too (e.g. a temperature), so a
 * run's config.json records them in one place; the sampler reads only its own.
 */
export interface PretextTask<O = unknown> extends Sampler<O> {
  options: z.ZodType<O>;
  /**
   * Optional: options with expensive derived parts resolved (jigsaw: the permutation set), done
   * once in the main thread so that pool workers receive them instead of recomputing them.
   */
  resolve?(opts: O): O;
  /**
   * Optional: the options of one run with their seeded parts fixed (jigsaw: the permutation set drawn
   * from the run's seed). The trainer saves the result in the run folder, so resume, evaluation and
   * other engines see exactly the same classes.
   */
  derive?(opts: O, seed: number): O;
  /**
   * The augmentations make the views (contrastive methods): held-out evaluation keeps them, where
   * for the other methods it turns them off to ask whether the task is solved on plain images.
   */
  augmentMakesViews?: boolean;
  /** A person's reading of label y, e.g. "90 deg" (sample grids, reports). */
  describe(y: number, opts: O): string;
}

/** A sample painted by the TypeScript renderer: its views, then its local views, then the label. */
export function paintSample<O>(task: Sampler<O>, img: Image, rng: Rng, opts: O): Sample {
  const plan = task.plan(img, rng, opts);
  const all = [...plan.views, ...(plan.local ?? [])];
  const sizes = all.map((v) => v.stages[v.stages.length - 1].size ** 2);
  const x = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  all.forEach((v, i) => {
    renderView(v, img, x.subarray(at, at + sizes[i]));
    at += sizes[i];
  });
  return plan.y === undefined ? { x } : { x, y: plan.y };
}
