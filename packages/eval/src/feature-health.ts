import { z } from 'zod';
import { CONSTANT_FEATURE } from './linear.ts';

/**
 * Are an encoder's frozen features usable at all? A feature that takes one value on every image
 * tells a probe nothing; when most are so (a collapsed run, a random init whose activations vanish),
 * every row of that encoder measures that failure, not a representation, and its Δs against it mean
 * nothing. Measured on the train split's features, per feature across images.
 */
export const FeatureHealth = z.object({
  /** root mean square of every feature value: the features' scale */
  scale: z.number().nonnegative(),
  /** share of features that are 0 on every image (dead ReLUs) */
  dead: z.number().min(0).max(1),
  /** share whose spread across images is at most CONSTANT_FEATURE x scale (the dead ones included): constant to float32 */
  constant: z.number().min(0).max(1),
});
export type FeatureHealth = z.infer<typeof FeatureHealth>;

/** A warning is given from this share of constant features on, */
export const CONSTANT_WARNING = 0.5;
/** or below this scale: the activations vanished on the way (probes standardise them, but fine-tuning from there hardly moves). */
export const VANISHING_SCALE = 1e-6;

export function featureHealth(features: Float32Array, dim: number): FeatureHealth {
  const rows = features.length / dim;
  if (!Number.isInteger(rows) || rows === 0) throw new Error(`featureHealth: ${features.length} values are not rows of ${dim}`);
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  const nonzero = new Int32Array(dim);
  let all = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const v = features[r * dim + j];
      sum[j] += v;
      sq[j] += v * v;
      all += v * v;
      if (v !== 0) nonzero[j]++;
    }
  }
  const scale = Math.sqrt(all / features.length);
  let dead = 0;
  let constant = 0;
  for (let j = 0; j < dim; j++) {
    const mean = sum[j] / rows;
    const sd = Math.sqrt(Math.max(0, sq[j] / rows - mean * mean));
    if (nonzero[j] === 0) dead++;
    if (sd <= CONSTANT_FEATURE * scale) constant++;
  }
  return { scale, dead: dead / dim, constant: constant / dim };
}

/** The line to show when most of an encoder's features are constant or vanishingly small, naming it and what that means; undefined otherwise. */
export function featureWarning(label: string, h: FeatureHealth): string | undefined {
  if (h.constant < CONSTANT_WARNING && h.scale >= VANISHING_SCALE) return undefined;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return (
    `warning: ${pct(h.constant)} of ${label}'s features are constant over the train images (${pct(h.dead)} always 0; scale ${h.scale.toExponential(2)}): ` +
    `its rows measure that, and differences against it mean little. A collapsed run, or an init whose activations vanish (a network without BatchNorm), does this`
  );
}
