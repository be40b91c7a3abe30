import { z } from 'zod';
import type { Image, Rng } from '../types.ts';

/**
 * Additive Gaussian noise (quantum mottle): sigma drawn uniformly in [0, std) grey levels, then
 * one N(0, sigma) value per pixel by Box-Muller (two uniforms give the noise of two pixels),
 * rounded and clamped to 0..255.
 */
export const noiseOptions = z
  .object({
    name: z.literal('noise'),
    std: z.number().min(0).max(64).default(6),
    p: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type NoiseOptions = z.infer<typeof noiseOptions>;

export function gaussianNoise(img: Image, rng: Rng, o: NoiseOptions): Image {
  const sigma = o.std * rng.next();
  const n = img.pixels.length;
  const pixels = new Uint8Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(1 - rng.next())); // 1 - u in (0, 1]: log is finite
    const theta = 2 * Math.PI * rng.next();
    pixels[i] = Math.min(255, Math.max(0, Math.round(img.pixels[i] + r * Math.cos(theta))));
    if (i + 1 < n) pixels[i + 1] = Math.min(255, Math.max(0, Math.round(img.pixels[i + 1] + r * Math.sin(theta))));
  }
  return { pixels, size: img.size };
}
