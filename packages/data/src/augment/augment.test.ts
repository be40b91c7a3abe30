import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGrey } from '../decode.ts';
import { createRng } from '../rng.ts';
import { rotate90 } from '../samplers/rotation.ts';
import { fixtureDir } from '../paths.ts';
import type { Image, Rng } from '../types.ts';
import {
  Augment,
  adjustIntensity,
  augment,
  augmentList,
  blurWith,
  cropBox,
  gaussianKernel,
  gaussianNoise,
  hflip,
  resizedCrop,
  rotateBy,
  wholeImageAugment,
} from './index.ts';

const img = (size: number, values: number[]): Image => ({ pixels: Uint8Array.from(values), size });
/** An Rng that replays fixed uniforms, so each draw's effect can be computed by hand. */
function scripted(...u: number[]): Rng & { used: () => number } {
  let i = 0;
  const next = () => {
    if (i >= u.length) throw new Error('scripted rng: out of values');
    return u[i++];
  };
  return { next, int: (n) => Math.floor(next() * n), state: () => [i], used: () => i };
}

describe('crop', () => {
  it('resizedCrop: the whole image at its own size is the identity', () => {
    const a = img(3, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(resizedCrop(a, 0, 0, 3, 3).pixels).toEqual(a.pixels);
  });

  it('resizedCrop: a 2x2 box of a 4x4 image upscaled to 4x4, by hand', () => {
    // box rows/cols 1..2 holds [[10, 20], [30, 60]]. Output i samples y = 1 + (i + 0.5)/2 - 0.5 =
    // 0.75, 1.25, 1.75, 2.25 -> clamped to the box: 1, 1.25, 1.75, 2 (same for x).
    const a = img(4, [0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 60, 0, 0, 0, 0, 0]);
    const f = [0, 0.25, 0.75, 1];
    const want = f.flatMap((fy) => f.map((fx) => Math.round((1 - fy) * (10 + 10 * fx) + fy * (30 + 30 * fx))));
    // e.g. (1, 1): 0.75 * (10 + 2.5) + 0.25 * (30 + 7.5) = 9.375 + 9.375 = 18.75 -> 19
    expect(want[5]).toBe(19);
    expect(Array.from(resizedCrop(a, 1, 1, 2, 2).pixels)).toEqual(want);
    expect(Array.from(resizedCrop(a, 1, 1, 2, 2).pixels.slice(0, 4))).toEqual([10, 13, 18, 20]);
  });

  it('cropBox: area and ratio from the draws, then top and left', () => {
    // area = 100 * (0.5 + 0.5 * 0.5) = 75, ratio exp(log 1) = 1 with ratio [1, 1]: w = h = round(8.66) = 9;
    // top = floor(0.2 * 2) = 0, left = floor(0.9 * 2) = 1
    expect(cropBox(10, scripted(0.5, 0.3, 0.2, 0.9), { scale: [0.5, 1], ratio: [1, 1] })).toEqual([0, 1, 9, 9]);
    // area 100 * (0.1 + 0.9 * 0.6) = 64; ratio range [1/4, 4] with draw 1: ar = 4, w = 16 > 10, so
    // a second try: area 64, ratio 1 -> 8 x 8 at (0, 0)
    const r = scripted(0.6, 1, 0.6, 0.5, 0, 0);
    expect(cropBox(10, r, { scale: [0.1, 1], ratio: [1 / 4, 4] })).toEqual([0, 0, 8, 8]);
    expect(r.used()).toBe(6);
  });
});

describe('intensity', () => {
  it('factors 1 leave the image unchanged', () => {
    const a = img(2, [0, 77, 200, 255]);
    expect(adjustIntensity(a, { brightness: 1, contrast: 1, gamma: 1 }).pixels).toEqual(a.pixels);
  });

  it('brightness, contrast about the mean, gamma, by hand', () => {
    const a = img(2, [0, 51, 102, 255]); // v = 0, 0.2, 0.4, 1
    // brightness 1.5: 0, 0.3, 0.6, 1 (clamped); mean 0.475
    // contrast 2: 0.475 + 2 (v - 0.475) = -0.475 -> 0, 0.125, 0.725, 1.525 -> 1
    // gamma 0.5: 0, sqrt(0.125) = 0.35355, sqrt(0.725) = 0.85147, 1 -> x 255, rounded
    expect(Array.from(adjustIntensity(a, { brightness: 1.5, contrast: 2, gamma: 0.5 }).pixels)).toEqual([0, 90, 217, 255]);
  });

  it('draws brightness, contrast, gamma in [1 - x, 1 + x] in that order', () => {
    const a = img(2, [0, 51, 102, 255]);
    const r = scripted(1, 0, 0);
    // brightness 0.5 + 1 * 1 = 1.5, contrast 0.5 + 1 * 0, gamma 0.5 + 1 * 0
    const out = augment(a, r, [{ name: 'intensity', brightness: 0.5, contrast: 0.5, gamma: 0.5, p: 1 }]);
    expect(Array.from(out.pixels)).toEqual(Array.from(adjustIntensity(a, { brightness: 1.5, contrast: 0.5, gamma: 0.5 }).pixels));
    expect(r.used()).toBe(3);
  });
});

describe('rotate, blur, noise, flip', () => {
  it('rotateBy: 0 degrees is the identity, 90 degrees equals rotate90 (counter-clockwise)', () => {
    const a = img(5, Array.from({ length: 25 }, (_, i) => (i * 37) % 256));
    expect(rotateBy(a, 0).pixels).toEqual(a.pixels);
    expect(rotateBy(a, 90).pixels).toEqual(rotate90(a.pixels, 5, 1));
    expect(rotateBy(a, -90).pixels).toEqual(rotate90(a.pixels, 5, 3));
  });

  it('rotateBy 45 degrees: the centre stays; an edge pixel by hand', () => {
    // 3x3, centre 1: output (0, 1) reads y = 1 - cos45, x = 1 + sin45 -> (0.2929, 1.7071)
    const a = img(3, [0, 0, 0, 0, 100, 200, 0, 0, 0]);
    const out = rotateBy(a, 45);
    expect(out.pixels[4]).toBe(100);
    const fy = 1 - Math.SQRT1_2;
    const fx = Math.SQRT1_2;
    // rows 0 and 1, cols 1 and 2: [[0, 0], [100, 200]]
    expect(out.pixels[1]).toBe(Math.round(fy * (100 + 100 * fx)));
  });

  it('blur: an impulse spreads as the outer product of the normalised kernel', () => {
    const a = img(7, Array.from({ length: 49 }, (_, i) => (i === 24 ? 255 : 0)));
    const w = (k: number) => Math.exp(-(k * k) / 2);
    const sum = [-3, -2, -1, 0, 1, 2, 3].reduce((s, k) => s + w(k), 0);
    expect(Array.from(gaussianKernel(1))).toHaveLength(7);
    const out = blurWith(a, 1);
    expect(out.pixels[24]).toBe(Math.round((255 * w(0) * w(0)) / sum ** 2));
    expect(out.pixels[25]).toBe(Math.round((255 * w(0) * w(1)) / sum ** 2));
    expect(out.pixels[32]).toBe(Math.round((255 * w(1) * w(1)) / sum ** 2));
    // a flat image stays flat (replicated edges, normalised kernel)
    expect(blurWith(img(4, new Array(16).fill(90)), 1.3).pixels.every((v) => v === 90)).toBe(true);
  });

  it('noise: Box-Muller, by hand', () => {
    const a = img(1, [100]);
    // sigma = 10 * 0.5 = 5; r = 5 sqrt(-2 ln(1 - 0.5)) = 5.887; theta = 2 pi * 0 -> +5.887
    expect(gaussianNoise(a, scripted(0.5, 0.5, 0), { name: 'noise', std: 10, p: 1 }).pixels[0]).toBe(106);
    // theta = pi: -5.887 -> 94; clamped at 0 and 255
    expect(gaussianNoise(a, scripted(0.5, 0.5, 0.5), { name: 'noise', std: 10, p: 1 }).pixels[0]).toBe(94);
    expect(gaussianNoise(img(2, [0, 0, 255, 255]), scripted(1 - 1e-9, 0.9, 0.5, 0.9, 0), { name: 'noise', std: 64, p: 1 }).pixels).toEqual(
      Uint8Array.from([0, 0, 255, 255]),
    );
  });

  it('flip mirrors columns', () => {
    expect(Array.from(hflip(img(2, [1, 2, 3, 4])).pixels)).toEqual([2, 1, 4, 3]);
  });
});

describe('augment lists', () => {
  it('p < 1 draws one uniform first and skips the transform when it is >= p', () => {
    const a = img(2, [1, 2, 3, 4]);
    const flip = Augment.parse({ name: 'flip' });
    expect(flip.p).toBe(0.5);
    expect(Array.from(augment(a, scripted(0.7), [flip]).pixels)).toEqual([1, 2, 3, 4]);
    expect(Array.from(augment(a, scripted(0.2), [flip]).pixels)).toEqual([2, 1, 4, 3]);
    expect(augment(a, scripted(), [])).toBe(a);
  });

  it('validates, naming the option', () => {
    expect(augmentList.parse([{ name: 'crop' }])).toEqual([{ name: 'crop', scale: [0.5, 1], ratio: [3 / 4, 4 / 3], p: 1 }]);
    expect(augmentList.parse(wholeImageAugment())).toEqual(wholeImageAugment());
    expect(() => augmentList.parse([{ name: 'sharpen' }])).toThrow();
    expect(() => augmentList.parse([{ name: 'crop', scale: [0.9, 0.2] }])).toThrow(/scale and ratio/);
    expect(() => augmentList.parse([{ name: 'intensity', brightnes: 0.1 }])).toThrow(/brightnes/);
  });

  it('on a real X-ray: every transform is deterministic per seed, leaves its input alone, changes the pixels', async () => {
    const dir = join(fixtureDir(), 'train', 'NORMAL');
    const pixels = await decodeGrey(join(dir, readdirSync(dir).sort()[0]), 64);
    const x = { pixels, size: 64 };
    const copy = Uint8Array.from(pixels);
    for (const name of ['crop', 'intensity', 'rotate', 'blur', 'noise', 'flip']) {
      const list = augmentList.parse([{ name, p: 1 }]);
      const a = augment(x, createRng(5), list);
      expect(augment(x, createRng(5), list).pixels, name).toEqual(a.pixels);
      expect(a.size).toBe(64);
      expect(a.pixels, name).not.toEqual(pixels);
      if (name !== 'flip') expect(augment(x, createRng(6), list).pixels, `${name} seed 6`).not.toEqual(a.pixels); // flip at p = 1 draws nothing
    }
    const all = augment(x, createRng(1), augmentList.parse(['crop', 'intensity', 'rotate', 'blur', 'noise'].map((name) => ({ name, p: 1 }))));
    expect(new Set(all.pixels).size).toBeGreaterThan(50);
    expect(pixels).toEqual(copy);
  });
});
