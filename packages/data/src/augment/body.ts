import { z } from 'zod';
import type { Image } from '../types.ts';
import { augmentation } from './augmentation.ts';
import { boxMap, IDENTITY } from './plan.ts';
import { renderView } from './render.ts';

/**
 * Crop to the body: the rows and columns whose mean grey level is at least `threshold` x the
 * view's mean are the body; the smallest square holding all of them (grown about its centre,
 * kept inside the view) is resized back to S x S. Dark margins, collimator edges and letterbox
 * bars, which tell a grid cell's position or the film's orientation, are cut away. The whole view
 * when fewer than a quarter of the rows or columns qualify. No RNG draws: follow it with `crop` for
 * a random box inside the body. It measures the view as planned so far (the cache image when it
 * comes first), painted by the TypeScript renderer.
 */
export const bodyOptions = z
  .object({
    name: z.literal('body'),
    threshold: z.number().positive().max(2).default(0.5),
    p: z.number().min(0).max(1).default(1),
  })
  .strict();
export type BodyOptions = z.infer<typeof bodyOptions>;

/** The square (top, left, side) of the body, as described above. */
export function bodyBox(img: Image, threshold: number): [number, number, number] {
  const { pixels, size } = img;
  const rows = new Float64Array(size);
  const cols = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      const v = pixels[i * size + j];
      rows[i] += v;
      cols[j] += v;
      total += v;
    }
  const cut = (threshold * total) / size; // a row's (or column's) sum against threshold x the mean row sum
  const span = (sums: Float64Array): [number, number] | undefined => {
    let first = -1;
    let last = -1;
    for (let k = 0; k < size; k++)
      if (sums[k] >= cut) {
        if (first < 0) first = k;
        last = k;
      }
    return first >= 0 && last - first + 1 >= size / 4 ? [first, last] : undefined;
  };
  const r = span(rows);
  const c = span(cols);
  if (!r || !c) return [0, 0, size];
  const side = Math.max(r[1] - r[0], c[1] - c[0]) + 1;
  const place = (lo: number, hi: number) => Math.min(size - side, Math.max(0, Math.floor((lo + hi + 1 - side) / 2)));
  return [place(r[0], r[1]), place(c[0], c[1]), side];
}

export const body = augmentation({
  options: bodyOptions,
  plan(view, _rng, o) {
    const plan = view.plan();
    const untouched = plan.stages.length === 1 && plan.stages[0].ops.length === 0 && plan.stages[0].size === view.image.size && plan.stages[0].map.every((v, i) => v === IDENTITY[i]);
    const current = untouched ? view.image : { pixels: renderView(plan, view.image), size: view.size };
    const [top, left, side] = bodyBox(current, o.threshold);
    if (side < view.size) view.geometry(boxMap(top, left, side, side, view.size));
  },
});
