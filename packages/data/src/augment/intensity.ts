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
  const hist = new Float64Array(256);
  for (const v of img.pixels) hist[v]++;
  let mean = 0;
  for (let v = 0; v < 256; v++) mean += hist[v] * clamp01((v / 255) * f.brightness);
  mean /= img.pixels.length;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const b = clamp01((v / 255) * f.brightness);
    const c = clamp01(mean + f.contrast * (b - mean));
    lut[v] = Math.round(255 * c ** f.gamma);
  }
  const pixels = new Uint8Array(img.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = lut[img.pixels[i]];
  return { pixels, size: img.size };
}

export function intensityJitter(img: Image, rng: Rng, o: IntensityOptions): Image {
  const next = () => rng.next();
  const brightness = uniform(next, 1 - o.brightness, 1 + o.brightness);
  const contrast = uniform(next, 1 - o.contrast, 1 + o.contrast);
  const gamma = uniform(next, 1 - o.gamma, 1 + o.gamma);
  return adjustIntensity(img, { brightness, contrast, gamma });
}
