import { z } from 'zod';
import type { Image, Rng } from '../types.ts';
import { uniform } from './resample.ts';

/**
 * Intensity jitter: brightness (x b), contrast (blend with the image mean by c), gamma (v^g), in
 * this order on v = pixel / 255, clamped to [0, 1] after each step (torchvision's ColorJitter for
 * one channel, plus gamma: exposure and film/detector response differ between X-ray machines).
 * Factors are drawn uniformly in [1 - x, 1 + x]: b, then c, then g.
 */
export const intensityOptions = z
  .object({
    name: z.literal('intensity'),
    brightness: z.number().min(0).lt(1).default(0.2),
    contrast: z.number().min(0).lt(1).default(0.2),
    gamma: z.number().min(0).lt(1).default(0.2),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type IntensityOptions = z.infer<typeof intensityOptions>;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Deterministic part: one 256-entry lookup table built from the image's histogram, then applied. */
export function adjustIntensity(img: Image, f: { brightness: number; contrast: number; gamma: number }): Image {
  const src = img.pixels;
  const hist = new Uint32Array(256);
  for (let i = 0; i < src.length; i++) hist[src[i]]++;
  let mean = 0;
  for (let v = 0; v < 256; v++) mean += hist[v] * clamp01((v / 255) * f.brightness);
  mean /= src.length;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    if (hist[v] === 0) continue; // small patches hold few grey levels: skip the pow() of absent ones
    const b = clamp01((v / 255) * f.brightness);
    const c = clamp01(mean + f.contrast * (b - mean));
    lut[v] = Math.round(255 * c ** f.gamma);
  }
  const pixels = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) pixels[i] = lut[src[i]];
  return { pixels, size: img.size };
}

export function intensityJitter(img: Image, rng: Rng, o: IntensityOptions): Image {
  const next = () => rng.next();
  const brightness = uniform(next, 1 - o.brightness, 1 + o.brightness);
  const contrast = uniform(next, 1 - o.contrast, 1 + o.contrast);
  const gamma = uniform(next, 1 - o.gamma, 1 + o.gamma);
  return adjustIntensity(img, { brightness, contrast, gamma });
}
