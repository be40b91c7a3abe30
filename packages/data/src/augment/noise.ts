import { z } from 'zod';
import { mix32 } from '../rng.ts';
import { augmentation } from './augmentation.ts';

/**
 * Additive Gaussian noise (quantum mottle): sigma drawn uniformly in [0, std) grey levels and a
 * 32-bit seed (two draws); the noise field is a function of the seed alone, so the torch renderer
 * makes the same one on its device. Pixels 2q and 2q + 1 share a Box-Muller pair (r cos, r sin) of
 * the uniforms u1, u2 = ((h >>> 9) + 0.5) / 2^23 of h = splitmix32(seed, 2q), splitmix32(seed, 2q + 1)
 * (23 bits, so float32 holds them exactly and u1 > 0); values are clamped to [0, 255].
 */
export const noiseOptions = z
  .object({
    name: z.literal('noise'),
    std: z.number().min(0).max(64).default(6),
    p: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type NoiseOptions = z.infer<typeof noiseOptions>;

const GOLDEN = 0x9e3779b9;

/** Output k of the splitmix32 stream started at `seed`: mix32 (rng.ts) of seed + k x golden ratio. */
export function noiseHash(seed: number, k: number): number {
  return mix32((seed + Math.imul(k, GOLDEN)) | 0);
}

const unit = (h: number) => ((h >>> 9) + 0.5) / 8388608;

export const noise = augmentation({
  options: noiseOptions,
  plan(view, rng, o) {
    const sigma = o.std * rng.next();
    view.pixel('noise', [sigma, rng.int(4294967296)], 2);
  },
  pixels: {
    params: ['sigma', 'seed'],
    render(v, _size, [sigma, seed]) {
      for (let q = 0; 2 * q < v.length; q++) {
        const r = sigma * Math.sqrt(-2 * Math.log(unit(noiseHash(seed, 2 * q))));
        const a = 2 * Math.PI * unit(noiseHash(seed, 2 * q + 1));
        const i = 2 * q;
        v[i] = Math.min(255, Math.max(0, v[i] + r * Math.cos(a)));
        if (i + 1 < v.length) v[i + 1] = Math.min(255, Math.max(0, v[i + 1] + r * Math.sin(a)));
      }
    },
  },
});
