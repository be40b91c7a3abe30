import { z } from 'zod';
import { augmentation, uniform } from './augmentation.ts';


/**
 * Gaussian blur with sigma (px) drawn uniformly in `sigma` (one draw): a separable kernel of
 * radius max(1, ceil(3 sigma)), rows then columns, edges replicated.
 */
export const blurOptions = z
  .object({
    name: z.literal('blur'),
    sigma: z.tuple([z.number().positive(), z.number().positive()]).default([0.1, 1.5]),
    p: z.number().min(0).max(1).default(0.5),
  })
  .strict()
  .refine((o) => o.sigma[0] <= o.sigma[1], { message: 'sigma is a [min, max] range' });
export type BlurOptions = z.infer<typeof blurOptions>;

export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

export const blur = augmentation({
  options: blurOptions,
  plan(view, rng, o) {
    view.pixel('blur', [uniform(() => rng.next(), o.sigma[0], o.sigma[1])], 1);
  },
  pixels: {
    params: ['sigma'],
    render(v, size, [sigma]) {
      const k = gaussianKernel(sigma);
      const r = (k.length - 1) / 2;
      const taps = 2 * r + 1;
      // one row (or column) at a time, padded with its edge values, then the kernel slid along it
      const line = new Float64Array(size + 2 * r);
      const pass = (base: number, step: number) => {
        for (let t = 0; t < line.length; t++) line[t] = v[base + Math.min(size - 1, Math.max(0, t - r)) * step];
        for (let j = 0; j < size; j++) {
          let s = 0;
          for (let t = 0; t < taps; t++) s += k[t] * line[j + t];
          v[base + j * step] = s;
        }
      };
      for (let i = 0; i < size; i++) pass(i * size, 1); // rows
      for (let j = 0; j < size; j++) pass(j, size); // then columns
    },
  },
});
