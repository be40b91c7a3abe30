import { z } from 'zod';
import { augmentation, uniform } from './augmentation.ts';


/**
 * Intensity jitter: brightness (x b), contrast (blend with the view's mean by c), gamma (v^g), in
 * this order on v = grey / 255, clamped to [0, 1] after each step (torchvision's ColorJitter for
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

export const intensity = augmentation({
  options: intensityOptions,
  plan(view, rng, o) {
    const next = () => rng.next();
    const b = uniform(next, 1 - o.brightness, 1 + o.brightness);
    const c = uniform(next, 1 - o.contrast, 1 + o.contrast);
    const g = uniform(next, 1 - o.gamma, 1 + o.gamma);
    view.pixel('intensity', [b, c, g], 3);
  },
  pixels: {
    params: ['brightness', 'contrast', 'gamma'],
    render(v, _size, [b, c, g]) {
      let mean = 0;
      for (let i = 0; i < v.length; i++) mean += v[i] = clamp01((v[i] / 255) * b);
      mean /= v.length;
      // exp(g log y) is y^g to an ulp and three times as fast in V8; y = 0 gives exp(-inf) = 0 (g > 0)
      for (let i = 0; i < v.length; i++) v[i] = 255 * Math.exp(g * Math.log(clamp01(mean + c * (v[i] - mean))));
    },
  },
});
