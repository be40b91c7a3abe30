import { z } from 'zod';
import { augmentation } from './augmentation.ts';

/**
 * Per-view standardisation (the per-patch normalisation of Noroozi & Favaro 2016): the view's grey
 * levels mapped to mean 128 and standard deviation `std`, clamped to 0..255, so that a tile's
 * exposure and its share of dark margin tell less about where it came from. A flat view (sd below
 * 1e-3 grey levels, which float rounding leaves on a flat one) becomes flat 128. No RNG draws.
 */
export const standardizeOptions = z
  .object({
    name: z.literal('standardize'),
    std: z.number().positive().max(128).default(48),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type StandardizeOptions = z.infer<typeof standardizeOptions>;

export const FLAT_SD = 1e-3;

export const standardize = augmentation({
  options: standardizeOptions,
  plan(view, _rng, o) {
    view.pixel('standardize', [o.std], 1);
  },
  pixels: {
    params: ['std'],
    render(v, _size, [std]) {
      let mean = 0;
      for (let i = 0; i < v.length; i++) mean += v[i];
      mean /= v.length;
      let variance = 0;
      for (let i = 0; i < v.length; i++) variance += (v[i] - mean) ** 2;
      const sd = Math.sqrt(variance / v.length);
      const scale = sd > FLAT_SD ? std / sd : 0;
      for (let i = 0; i < v.length; i++) v[i] = Math.min(255, Math.max(0, 128 + (v[i] - mean) * scale));
    },
  },
});
