import type { z } from 'zod';
import type { Sampler } from '../types.ts';

/** A sampler plus the zod schema of its options (the registry entry of one pretext task). */
export interface PretextTask<O = unknown> extends Sampler<O> {
  options: z.ZodType<O>;
  /**
   * Optional: options with expensive derived parts resolved (jigsaw: the permutation set), done
   * once in the main thread so that pool workers receive them instead of recomputing them.
   */
  resolve?(opts: O): O;
  /** A person's reading of label y, e.g. "90 deg" (sample grids, reports). */
  describe(y: number, opts: O): string;
}
