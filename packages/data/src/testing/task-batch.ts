import type { Batch, Image } from '../types.ts';
import { createRng } from '../rng.ts';
import { TASKS, type TaskName } from '../samplers/index.ts';

/** One batch of `task` samples, one per image, from a seeded RNG (same seed, same bytes). */
export function taskBatch(task: TaskName, images: Image[], seed: number, rawOpts: unknown = {}): { batch: Batch; classes: number } {
  const t = TASKS[task] as unknown as (typeof TASKS)['context'];
  const opts = t.options.parse(rawOpts);
  const { views, patch } = t.shape(images[0].size, opts);
  const per = views * patch * patch;
  const x = new Uint8Array(images.length * per);
  const y = new Int32Array(images.length);
  const rng = createRng(seed);
  images.forEach((img, i) => {
    const s = t.sample(img, rng, opts);
    x.set(s.x, i * per);
    y[i] = s.y;
  });
  return { batch: { x, y, shape: [images.length, views, patch, patch] }, classes: t.classes(opts) };
}
