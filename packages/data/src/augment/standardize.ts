import { z } from 'zod';
import type { Image } from '../types.ts';

/**
 * Per-view standardisation (the per-patch normalisation of Noroozi & Favaro 2016): the view's grey
 * levels mapped to mean 128 and standard deviation `std`, rounded and clamped to 0..255, so that a
 * tile's exposure and its share of dark margin tell less about where it came from. A flat view
 * becomes flat 128. No RNG draws.
 */
export const standardizeOptions = z
  .object({
    name: z.literal('standardize'),
    std: z.number().positive().max(128).default(48),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type StandardizeOptions = z.infer<typeof standardizeOptions>;

export function standardize(img: Image, o: Pick<StandardizeOptions, 'std'>): Image {
  const src = img.pixels;
  const hist = new Float64Array(256);
  for (let i = 0; i < src.length; i++) hist[src[i]]++;
  let mean = 0;
  for (let v = 0; v < 256; v++) mean += v * hist[v];
  mean /= src.length;
  let variance = 0;
  for (let v = 0; v < 256; v++) variance += hist[v] * (v - mean) ** 2;
  const sd = Math.sqrt(variance / src.length);
  const scale = sd > 0 ? o.std / sd : 0;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.max(0, Math.round(128 + (v - mean) * scale)));
  const pixels = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) pixels[i] = lut[src[i]];
  return { pixels, size: img.size };
}
