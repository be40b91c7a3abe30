import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { context } from '../samplers/context.ts';
import { grid } from '../samplers/geometry.ts';
import { jigsaw } from '../samplers/jigsaw.ts';
import { rotate90, rotation } from '../samplers/rotation.ts';
import { paintSample } from '../samplers/task.ts';
import { fixtureImages } from '../testing/index.ts';
import type { Image } from '../types.ts';
import { augment, augmentList, bodyBox, evalTaskOptions, resizedCrop } from './index.ts';

/** The shortcut-resistant options (docs/SHORTCUTS.md): standardize, body, mask, and `before` of the grid tasks. */
const img = (size: number, values: ArrayLike<number>): Image => ({ pixels: Uint8Array.from(values), size });
const apply = (a: Image, raw: object) => augment(a, createRng(0), augmentList.parse([raw]));
const standardize = (a: Image, o: { std: number }) => apply(a, { name: 'standardize', ...o });
const maskEdges = (a: Image, o: object) => apply(a, { name: 'mask', ...o });
const stats = (p: Uint8Array) => {
  const mean = p.reduce((s, v) => s + v, 0) / p.length;
  return { mean, sd: Math.sqrt(p.reduce((s, v) => s + (v - mean) ** 2, 0) / p.length) };
};

describe('standardize', () => {
  it('maps a view to mean 128 and sd `std`, by hand', () => {
    // mean 15, sd sqrt(125) = 11.180; scale 48 / 11.180 = 4.2933: 128 -/+ 64.40 and 21.47
    expect(Array.from(standardize(img(2, [0, 10, 20, 30]), { std: 48 }).pixels)).toEqual([64, 107, 149, 192]);
    expect(Array.from(standardize(img(2, [7, 7, 7, 7]), { std: 48 }).pixels)).toEqual([128, 128, 128, 128]);
  });

  it('takes exposure away from real X-ray tiles', async () => {
    const [a] = await fixtureImages(1, 128);
    const dark = { pixels: a.pixels.map((v) => v >> 1), size: 128 }; // the same film at half exposure
    const s = standardize(a, { std: 48 });
    expect(Math.abs(stats(s.pixels).mean - 128)).toBeLessThan(2);
    expect(Math.abs(stats(s.pixels).sd - 48)).toBeLessThan(2);
    const t = standardize(dark, { std: 48 });
    expect(Math.abs(stats(t.pixels).mean - stats(s.pixels).mean)).toBeLessThan(1);
  });
});

describe('body', () => {
  it('finds the square around the bright rows and columns, by hand', () => {
    // 16 x 16, value 200 in rows 3..12 x cols 5..10, else 0: mean row sum 750, cut 375; rows 3..12 and
    // cols 5..10 qualify; side 10; rows centred at floor((3 + 12 + 1 - 10) / 2) = 3, cols at 3
    const p = new Uint8Array(256);
    for (let i = 3; i <= 12; i++) for (let j = 5; j <= 10; j++) p[i * 16 + j] = 200;
    expect(bodyBox(img(16, p), 0.5)).toEqual([3, 3, 10]);
  });

  it('cuts a black letterbox away from a real X-ray, and keeps an image without one whole', async () => {
    const [a] = await fixtureImages(1, 128);
    const inner = resizedCrop(a, 0, 0, 128, 128, 96);
    const framed = new Uint8Array(128 * 128);
    for (let i = 0; i < 96; i++) framed.set(inner.pixels.subarray(i * 96, (i + 1) * 96), (16 + i) * 128 + 16);
    const [top, left, side] = bodyBox(img(128, framed), 0.5);
    expect(top).toBeGreaterThanOrEqual(14);
    expect(left).toBeGreaterThanOrEqual(14);
    expect(top + side).toBeLessThanOrEqual(114);
    expect(left + side).toBeLessThanOrEqual(114);
    expect(side).toBeGreaterThanOrEqual(80);
    expect(bodyBox(img(16, new Uint8Array(256)), 0.5)).toEqual([0, 0, 16]); // nothing qualifies: whole image
    const cropped = apply(img(128, framed), { name: 'body' });
    expect(stats(cropped.pixels.subarray(0, 128)).mean).toBeGreaterThan(stats(framed.subarray(0, 128)).mean + 20);
  });
});

describe('mask', () => {
  it('circle and frame are unchanged by quarter turns, on a real X-ray and an odd size', async () => {
    const [a] = await fixtureImages(1, 128);
    const odd = img(7, Array.from({ length: 49 }, (_, i) => i * 5));
    for (const im of [a, odd])
      for (const shape of ['circle', 'frame'] as const)
        for (let k = 1; k < 4; k++) {
          const o = { shape, width: 0.1, fill: 0 };
          const turnedThenMasked = maskEdges({ pixels: rotate90(im.pixels, im.size, k), size: im.size }, o).pixels;
          expect(turnedThenMasked).toEqual(rotate90(maskEdges(im, o).pixels, im.size, k));
        }
  });

  it('blanks the corners (circle) or a border of round(width x S) px (frame)', async () => {
    const [a] = await fixtureImages(1, 128);
    const c = maskEdges(a, { shape: 'circle', width: 0.1, fill: 0 }).pixels;
    expect([c[0], c[127], c[127 * 128], c[128 * 128 - 1]]).toEqual([0, 0, 0, 0]);
    expect(c[64 * 128 + 64]).toBe(a.pixels[64 * 128 + 64]);
    const f = maskEdges(a, { shape: 'frame', width: 0.1, fill: 9 }).pixels; // 13 px
    expect(f[12 * 128 + 64]).toBe(9);
    expect(f[13 * 128 + 64]).toBe(a.pixels[13 * 128 + 64]);
  });
});

describe('before: whole-image augmentations ahead of the grid', () => {
  it('a context or jigsaw sample cuts its patches from the augmented image, drawing from the same stream first', async () => {
    const [a] = await fixtureImages(1, 128);
    const before = [{ name: 'body' }, { name: 'crop', scale: [0.5, 1], ratio: [1, 1] }];
    for (const task of [context, jigsaw] as const) {
      const opts = task.options.parse({ before }) as never;
      const patch = grid(128).patch;
      for (let seed = 0; seed < 5; seed++) {
        const got = paintSample(task, a, createRng(seed), opts);
        const r = createRng(seed);
        const whole = augment(a, r, task.options.parse({ before }).before as never);
        const want = paintSample(task, whole, r, task.options.parse({}) as never);
        expect(got.y).toBe(want.y);
        // the patches are read at the same points of the one map (not resampled twice): equal up to float rounding
        expect(got.x.every((v, i) => Math.abs(v - want.x[i]) <= 1)).toBe(true);
        expect(got.x.filter((v, i) => v !== want.x[i]).length).toBeLessThan(got.x.length / 1000 + 2);
        expect(got.x.length).toBe((task === context ? 2 : 9) * patch * patch);
      }
      // off by default: the study's task, sample for sample
      const none = task.options.parse({}) as never;
      expect(paintSample(task, a, createRng(3), none).x).toEqual(paintSample(task, a, createRng(3), { ...(none as object), before: [] } as never).x);
    }
  });

  it('rotation with a circular mask: turning the masked image is masking the turned one', async () => {
    const [a] = await fixtureImages(1, 128);
    const opts = rotation.options.parse({ augment: [{ name: 'mask', shape: 'circle' }] });
    const s = paintSample(rotation, a, createRng(1), opts);
    const masked = maskEdges(a, { shape: 'circle', width: 0.1, fill: 0 });
    expect(s.x).toEqual(rotate90(masked.pixels, 128, s.y!));
  });
});

describe('evalTaskOptions: what held-out pretext accuracy samples', () => {
  it('turns random augmentations off and keeps the deterministic transforms the task was trained with', () => {
    const rot = rotation.options.parse({ augment: [{ name: 'crop' }, { name: 'intensity' }, { name: 'mask', shape: 'frame' }, { name: 'mask', p: 0.5 }] });
    expect((evalTaskOptions(rot).augment as { name: string }[]).map((a) => a.name)).toEqual(['mask']);
    expect(evalTaskOptions(rotation.options.parse({})).augment).toEqual([]); // the study's default: all random
    const ctx = context.options.parse({ before: [{ name: 'body' }, { name: 'crop', ratio: [1, 1] }], augment: [{ name: 'standardize' }, { name: 'intensity' }] });
    const e = evalTaskOptions(ctx) as { before: { name: string }[]; augment: { name: string }[] };
    expect(e.before.map((a) => a.name)).toEqual(['body']);
    expect(e.augment.map((a) => a.name)).toEqual(['standardize']);
  });
});
