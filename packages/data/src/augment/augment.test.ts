import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGrey } from '../decode.ts';
import { createRng, mix32 } from '../rng.ts';
import { rotate90 } from '../samplers/rotation.ts';
import { fixtureDir } from '../paths.ts';
import type { Image, Rng } from '../types.ts';
import { Augment, augment, augmentList, boxMap, cropBox, gaussianKernel, noiseHash, planAugment, programOf, renderView, resizedCrop, rotationMap, sampleAffine, ViewBuilder, wholeImageAugment } from './index.ts';

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
/** One pixel op on an image, through a plan with no geometry. */
function paintOp(a: Image, name: string, params: number[]): number[] {
  const view = new ViewBuilder(a);
  view.pixel(name, params, params.length);
  return Array.from(renderView(view.plan(), a));
}
/** Bilinear at (y, x), coordinates clamped to the image: the definition the sampler is checked against. */
function bilinearAt(a: Image, y: number, x: number): number {
  const n = a.size - 1;
  const cy = Math.min(n, Math.max(0, y));
  const cx = Math.min(n, Math.max(0, x));
  const [y0, x0] = [Math.floor(cy), Math.floor(cx)];
  const [y1, x1] = [Math.min(n, y0 + 1), Math.min(n, x0 + 1)];
  const at = (r: number, c: number) => a.pixels[r * a.size + c];
  const [fy, fx] = [cy - y0, cx - x0];
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

describe('the affine sampler', () => {
  it('the whole image at its own size is the identity; a box is read at half-pixel centres, edges replicated', () => {
    const a = img(3, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(resizedCrop(a, 0, 0, 3, 3).pixels).toEqual(a.pixels);
    // the 2x2 box at (1, 1) of a 4x4 image upscaled to 4x4: output i samples y = 1 + (i + 0.5) / 2 - 0.5 =
    // 0.75, 1.25, 1.75, 2.25 (the box's own half-pixel margin reads its neighbours), e.g. (0, 0) at
    // (0.75, 0.75): 0.25 * 0.25 * 0 + ... + 0.75 * 0.75 * 10 = 5.625 -> 6
    const b = img(4, [0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 60, 0, 0, 0, 0, 0]);
    expect(resizedCrop(b, 1, 1, 2, 2).pixels[0]).toBe(6);
    const f = [0.75, 1.25, 1.75, 2.25];
    expect(Array.from(resizedCrop(b, 1, 1, 2, 2).pixels)).toEqual(f.flatMap((y) => f.map((x) => Math.round(bilinearAt(b, y, x)))));
  });

  it('a rotated map on a real X-ray equals bilinear at the mapped points, coordinates clamped', async () => {
    const dir = join(fixtureDir(), 'train', 'NORMAL');
    const a = { pixels: await decodeGrey(join(dir, readdirSync(dir).sort()[0]), 32), size: 32 };
    const map = rotationMap(32, 17);
    const out = sampleAffine(a.pixels, 32, map, 32);
    for (const [i, j] of [[0, 0], [5, 30], [16, 16], [31, 2]]) {
      const [p, q, r, s, t, u] = map;
      expect(out[i * 32 + j]).toBeCloseTo(bilinearAt(a, p * i + q * j + r, s * i + t * j + u), 9);
    }
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

  it('rotate: 0 degrees is the identity, +-90 degrees equal quarter turns; 45 degrees by hand', () => {
    const a = img(5, Array.from({ length: 25 }, (_, i) => (i * 37) % 256));
    const turn = (deg: number) => Array.from(sampleAffine(a.pixels, 5, rotationMap(5, deg), 5), Math.round);
    expect(turn(0)).toEqual(Array.from(a.pixels));
    expect(turn(90)).toEqual(Array.from(rotate90(a.pixels, 5, 1)));
    expect(turn(-90)).toEqual(Array.from(rotate90(a.pixels, 5, 3)));
    // 3x3, centre 1: output (0, 1) reads y = 1 - cos45, x = 1 + sin45 -> rows 0 and 1, cols 1 and 2: [[0, 0], [100, 200]]
    const b = img(3, [0, 0, 0, 0, 100, 200, 0, 0, 0]);
    const out = sampleAffine(b.pixels, 3, rotationMap(3, 45), 3);
    expect(out[4]).toBeCloseTo(100, 9);
    expect(out[1]).toBeCloseTo((1 - Math.SQRT1_2) * (100 + 100 * Math.SQRT1_2), 9);
  });
});

describe('pixel ops', () => {
  it('intensity: factors 1 leave the image unchanged; brightness, contrast about the mean, gamma, by hand', () => {
    const a = img(2, [0, 77, 200, 255]);
    expect(paintOp(a, 'intensity', [1, 1, 1])).toEqual(Array.from(a.pixels));
    // v = 0, 0.2, 0.4, 1; brightness 1.5: 0, 0.3, 0.6, 1 (clamped); mean 0.475
    // contrast 2: 0.475 + 2 (v - 0.475) = -0.475 -> 0, 0.125, 0.725, 1.525 -> 1
    // gamma 0.5: 0, sqrt(0.125) = 0.35355, sqrt(0.725) = 0.85147, 1 -> x 255, rounded
    expect(paintOp(img(2, [0, 51, 102, 255]), 'intensity', [1.5, 2, 0.5])).toEqual([0, 90, 217, 255]);
  });

  it('intensity draws brightness, contrast, gamma in [1 - x, 1 + x] in that order', () => {
    const view = new ViewBuilder(img(2, [0, 51, 102, 255]));
    const r = scripted(1, 0, 0.25);
    planAugment(view, r, [{ name: 'intensity', brightness: 0.5, contrast: 0.5, gamma: 0.5, p: 1 }]);
    expect(view.plan().stages[0].ops).toEqual([{ name: 'intensity', params: [1, 1.5, 0.5, 0.75] }]);
    expect(r.used()).toBe(3);
  });

  it('blur: an impulse spreads as the outer product of the normalised kernel; a flat image stays flat', () => {
    const a = img(7, Array.from({ length: 49 }, (_, i) => (i === 24 ? 255 : 0)));
    const w = (k: number) => Math.exp(-(k * k) / 2);
    const sum = [-3, -2, -1, 0, 1, 2, 3].reduce((s, k) => s + w(k), 0);
    expect(Array.from(gaussianKernel(1))).toHaveLength(7);
    const out = paintOp(a, 'blur', [1]);
    expect(out[24]).toBe(Math.round((255 * w(0) * w(0)) / sum ** 2));
    expect(out[25]).toBe(Math.round((255 * w(0) * w(1)) / sum ** 2));
    expect(out[32]).toBe(Math.round((255 * w(1) * w(1)) / sum ** 2));
    expect(paintOp(img(4, new Array(16).fill(90)), 'blur', [1.3]).every((v) => v === 90)).toBe(true);
  });

  it('noise: the splitmix32 stream of its seed, Box-Muller pairs, by hand for one pair', () => {
    expect(noiseHash(7, 0)).toBe(mix32(7));
    const seed = 123456789;
    const u = (k: number) => ((noiseHash(seed, k) >>> 9) + 0.5) / 2 ** 23;
    const r = 5 * Math.sqrt(-2 * Math.log(u(0)));
    const want = [100 + r * Math.cos(2 * Math.PI * u(1)), 100 + r * Math.sin(2 * Math.PI * u(1))].map((v) => Math.round(Math.min(255, Math.max(0, v))));
    expect(paintOp(img(2, [100, 100, 100, 100]), 'noise', [5, seed]).slice(0, 2)).toEqual(want);
  });

  it('noise: the same seed gives the same field, another seed another; on a flat view its mean is 0 and its sd sigma', () => {
    const flat = { pixels: new Uint8Array(128 * 128).fill(128), size: 128 };
    const a = paintOp(flat, 'noise', [10, 42]);
    expect(paintOp(flat, 'noise', [10, 42])).toEqual(a);
    const b = paintOp(flat, 'noise', [10, 43]);
    expect(b).not.toEqual(a);
    const d = a.map((v) => v - 128);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    // 16384 samples: the mean's standard error is 10 / 128 = 0.08; rounding adds 1/12 to the variance
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(Math.abs(sd - Math.sqrt(100 + 1 / 12))).toBeLessThan(0.3);
    // neighbours (one Box-Muller pair, and across pairs) are uncorrelated
    const corr = (lag: number) => d.slice(lag).reduce((s, v, i) => s + v * d[i], 0) / (d.length - lag) / sd ** 2;
    expect(Math.abs(corr(1))).toBeLessThan(0.03);
    expect(Math.abs(corr(2))).toBeLessThan(0.03);
  });

  it('flip mirrors columns', () => {
    expect(Array.from(augment(img(2, [1, 2, 3, 4]), scripted(), [{ name: 'flip', p: 1 }]).pixels)).toEqual([2, 1, 4, 3]);
  });
});

describe('plans', () => {
  it('a run of geometric ops is one map; a geometric op after a pixel op starts a stage; the program ignores the draws', () => {
    const a = { pixels: new Uint8Array(64 * 64), size: 64 };
    const list = augmentList.parse([{ name: 'crop' }, { name: 'rotate' }, { name: 'intensity' }, { name: 'flip', p: 1 }, { name: 'blur', p: 0.5 }]);
    const programs = [1, 2, 3, 4, 5, 6].map((seed) => {
      const view = new ViewBuilder(a);
      planAugment(view, createRng(seed), list);
      return programOf(view.plan());
    });
    expect(programs[0]).toEqual({ source: 64, stages: [{ size: 64, ops: ['intensity'] }, { size: 64, ops: ['blur'] }] });
    for (const p of programs) expect(p).toEqual(programs[0]); // blur on or off: the same program
  });

  it('a skipped pixel op stays in the plan, switched off, and paints nothing', () => {
    const a = img(2, [1, 2, 3, 4]);
    const view = new ViewBuilder(a);
    planAugment(view, scripted(0.9), [{ name: 'noise', std: 30, p: 0.5 }]);
    expect(view.plan().stages[0].ops).toEqual([{ name: 'noise', params: [0, 0, 0] }]);
    expect(renderView(view.plan(), a)).toEqual(a.pixels);
  });

  it('a quarter turn folded into the map is rotate90 of the unturned view (within float rounding)', async () => {
    const dir = join(fixtureDir(), 'train', 'PNEUMONIA');
    const a = { pixels: await decodeGrey(join(dir, readdirSync(dir).sort()[0]), 64), size: 64 };
    const list = augmentList.parse([{ name: 'crop' }, { name: 'rotate' }, { name: 'intensity' }]);
    for (let k = 0; k < 4; k++) {
      const view = new ViewBuilder(a);
      planAugment(view, createRng(k), list);
      const plain = renderView(view.plan(), a);
      view.quarterTurn(k);
      const turned = renderView(view.plan(), a);
      const want = rotate90(plain, 64, k);
      expect(turned.every((v, i) => Math.abs(v - want[i]) <= 1)).toBe(true);
      expect(turned.filter((v, i) => v !== want[i]).length).toBeLessThan(8);
    }
  });

  it('boxMap maps the box onto the whole output', () => {
    const [a, , c, , e, f] = boxMap(10, 20, 30, 40, 10);
    expect([a, c, e, f]).toEqual([3, 10 + 1.5 - 0.5, 4, 20 + 2 - 0.5]);
  });
});

describe('augment lists', () => {
  it('p < 1 draws one uniform first and skips the transform when it is >= p', () => {
    const a = img(2, [1, 2, 3, 4]);
    const flip = Augment.parse({ name: 'flip' });
    expect(flip.p).toBe(0.5);
    expect(Array.from(augment(a, scripted(0.7), [flip]).pixels)).toEqual([1, 2, 3, 4]);
    expect(Array.from(augment(a, scripted(0.2), [flip]).pixels)).toEqual([2, 1, 4, 3]);
    expect(augment(a, scripted(), []).pixels).toEqual(a.pixels);
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
