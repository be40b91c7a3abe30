import type { z } from 'zod';
import type { Sampler } from '../types.ts';

/** A sampler plus the zod schema of its options (the registry entry of one pretext task). */
export interface PretextTask<O = unknown> extends Sampler<O> {
  options: z.ZodType<O>;
}
