import { painted } from '../batch-plans.ts';
import { makeBatch } from '../batches.ts';
import { getSampler, type SamplerName } from '../samplers/index.ts';
import type { Image, PaintedBatch } from '../types.ts';

/**
 * One batch of a method's samples, one per image, from a seeded RNG (same seed, same bytes);
 * `classes` is 0 when the method's samples carry no label.
 */
export function taskBatch(task: SamplerName, images: Image[], seed: number, rawOpts: unknown = {}): { batch: PaintedBatch; classes: number } {
  const t = getSampler(task);
  const parsed = t.options.parse(rawOpts);
  const opts = t.resolve ? t.resolve(parsed) : parsed;
  const batch = painted(makeBatch({ get: (i) => images[i] }, t, opts, images.map((_, i) => i), seed));
  return { batch, classes: t.classes?.(opts) ?? 0 };
}
