import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Batch, createRng, decodeGrey, fixtureDir, type Image, TASKS, type TaskName } from '@cxr-ssl/data';

/** Test and bench helper: real fixture X-rays as pretext batches, built by the real samplers. */

/** `count` fixture X-rays (NORMAL and PNEUMONIA alternating) decoded at size x size. */
export async function fixtureImages(count: number, size: number): Promise<Image[]> {
  const root = join(fixtureDir(), 'train');
  const lists = ['NORMAL', 'PNEUMONIA'].map((c) => readdirSync(join(root, c)).sort().map((f) => join(root, c, f)));
  const paths = Array.from({ length: count }, (_, i) => {
    const list = lists[i % 2];
    return list[Math.floor(i / 2) % list.length];
  });
  return Promise.all(paths.map(async (p) => ({ pixels: await decodeGrey(p, size), size })));
}

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
