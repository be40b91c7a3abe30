import { z } from 'zod';
import { standardiser } from '../linear.ts';
import { num } from '../option-fields.ts';
import { defineProtocol } from './protocol.ts';

/** Toy: each test image goes to the nearer class mean (cosine) of the standardised, unit-length train features. */
export const centroid = defineProtocol({
  summary: 'nearest class centroid (cosine) on frozen features',
  options: z.object({ temperature: num().positive().default(0.1).describe('softmax temperature of the two cosine similarities') }).strict(),
  flagPrefix: 'centroid-',
  async run({ options, features }) {
    const { dim, train, test } = await features();
    const z = standardiser(train, dim);
    const unit = (f: Float32Array, r: number) => {
      const v = Array.from({ length: dim }, (_, j) => (f[r * dim + j] - z.mean[j]) * z.invStd[j]);
      const n = Math.hypot(...v) || 1;
      return v.map((x) => x / n);
    };
    const means = [0, 1].map((c) => {
      const m = new Array(dim).fill(0);
      for (let r = 0; r < train.labels.length; r++) {
        if (train.labels[r] === c) for (const [j, x] of unit(train.features, r).entries()) m[j] += x;
      }
      const n = Math.hypot(...m) || 1;
      return m.map((x) => x / n);
    });
    const probs = Array.from({ length: test.labels.length }, (_, r) => {
      const u = unit(test.features, r);
      const [s0, s1] = means.map((m) => m.reduce((s, x, j) => s + x * u[j], 0));
      return 1 / (1 + Math.exp((s0 - s1) / options.temperature));
    });
    return { probs };
  },
});
