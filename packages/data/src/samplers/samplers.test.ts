import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { fixtureDir } from '../testing/index.ts';
import type { Image, Sampler } from '../types.ts';
import { CONTEXT_NEIGHBOURS, context } from './context.ts';
import { augment, augmentList } from '../augment/index.ts';
import { grid } from './geometry.ts';
import { jigsaw, jigsawOptions } from './jigsaw.ts';
import { moco } from './moco.ts';
import { simclr } from './simclr.ts';
import { permutationSet } from './permutations.ts';
import { SAMPLERS, getSampler } from './index.ts';
import { rotate90, rotation } from './rotation.ts';
import { paintSample } from './task.ts';

/** Two images whose pixels hold their own row / column: sampling both with the same seed tells
 * exactly where every output pixel came from. */
function coordImages(size: number): { rows: Image; cols: Image } {
  const rows = new Uint8Array(size * size);
  const cols = new Uint8Array(size * size);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) {
      rows[r * size + c] = r;
      cols[r * size + c] = c;
    }
  return { rows: { pixels: rows, size }, cols: { pixels: cols, size } };
}

/** Top-left (row, col) of every view, checking each view is one contiguous, unflipped square. */
function viewOrigins<O>(s: Sampler<O>, size: number, seed: number, opts: O) {
  const { rows, cols } = coordImages(size);
  const a = paintSample(s, rows, createRng(seed), opts);
  const b = paintSample(s, cols, createRng(seed), opts);
  expect(a.y).toBe(b.y);
  const { views, patch } = s.shape(size, opts);
  expect(a.x.length).toBe(views * patch * patch);
  const origins: [number, number][] = [];
  for (let v = 0; v < views; v++) {
    const o = v * patch * patch;
    const top = a.x[o];
    const left = b.x[o];
    for (let i = 0; i < patch; i++)
      for (let j = 0; j < patch; j++) {
        if (a.x[o + i * patch + j] !== top + i || b.x[o + i * patch + j] !== left + j) {
          throw new Error(`view ${v} is not a contiguous patch at (${i}, ${j})`);
        }
      }
    origins.push([top, left]);
  }
  return { y: a.y!, origins };
}

function cellOf(size: number, patch: number, [top, left]: [number, number]): number {
  const g = grid(size, patch);
  const r = Math.floor((top - g.offset) / g.cell);
  const c = Math.floor((left - g.offset) / g.cell);
  // the whole patch must stay inside that cell
  expect(top + patch).toBeLessThanOrEqual(g.offset + (r + 1) * g.cell);
  expect(left + patch).toBeLessThanOrEqual(g.offset + (c + 1) * g.cell);
  return r * 3 + c;
}

describe('grid geometry', () => {
  it('scales with the image size', () => {
    expect(grid(256)).toEqual({ cell: 85, patch: 64, offset: 0 });
    expect(grid(128)).toEqual({ cell: 42, patch: 32, offset: 1 });
    expect(grid(64, 20)).toEqual({ cell: 21, patch: 20, offset: 0 });
    expect(() => grid(128, 43)).toThrow(/patch <= 42/);
  });
});

describe('rotation', () => {
  it('k = 1 turns counter-clockwise like numpy.rot90', () => {
    // 3x3: [[0,1,2],[3,4,5],[6,7,8]] -> rot90 -> [[2,5,8],[1,4,7],[0,3,6]]
    const src = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(rotate90(src, 3, 1))).toEqual([2, 5, 8, 1, 4, 7, 0, 3, 6]);
    expect(Array.from(rotate90(src, 3, 2))).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(Array.from(rotate90(src, 3, 3))).toEqual([6, 3, 0, 7, 4, 1, 8, 5, 2]);
    expect(Array.from(rotate90(rotate90(src, 3, 1), 3, 3))).toEqual(Array.from(src));
  });

  it('sample: pixel (r, c) lands at (S-1-c, r) for label 1, labels uniform over 0..3', () => {
    const size = 32;
    const { rows, cols } = coordImages(size);
    const counts = [0, 0, 0, 0];
    for (let seed = 0; seed < 400; seed++) {
      const a = paintSample(rotation, rows, createRng(seed), { augment: [] });
      const b = paintSample(rotation, cols, createRng(seed), { augment: [] });
      counts[a.y!]++;
      if (a.y === 1) {
        // output (i, j) came from input (j, S-1-i)
        expect(a.x[(size - 1 - 5) * size + 3]).toBe(3);
        expect(b.x[(size - 1 - 5) * size + 3]).toBe(5);
      }
      if (a.y === 0) expect(a.x).toEqual(rows.pixels);
    }
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });
});

describe('context', () => {
  it.each([128, 256, 64])('centre + labelled neighbour patches at %i px, jitter inside cells', (size) => {
    const opts = context.options.parse({});
    const patch = context.shape(size, opts).patch;
    const counts = new Array(8).fill(0);
    const tops = new Set<number>();
    for (let seed = 0; seed < 800; seed++) {
      const { y, origins } = viewOrigins(context, size, seed, opts);
      counts[y]++;
      expect(cellOf(size, patch, origins[0])).toBe(4);
      const [r, c] = CONTEXT_NEIGHBOURS[y];
      expect(cellOf(size, patch, origins[1])).toBe(r * 3 + c);
      tops.add(origins[0][0]);
    }
    for (const c of counts) expect(c).toBeGreaterThan(60);
    // the jitter covers every position of the cell's slack
    const g = grid(size);
    expect(tops.size).toBe(g.cell - g.patch + 1);
  });

  it('honours a patch override and rejects one that does not fit', () => {
    const opts = context.options.parse({ patch: 40 });
    expect(context.shape(128, opts)).toEqual({ views: 2, patch: 40 });
    expect(() => context.shape(128, { patch: 50, before: [], augment: [] })).toThrow(/choose patch <= 42/);
    expect(() => context.options.parse({ patch: 0 })).toThrow();
    expect(() => context.options.parse({ pach: 3 })).toThrow();
  });
});

describe('jigsaw', () => {
  it('view i is a crop of cell perm[y][i]', () => {
    const opts = jigsawOptions.parse({ permutations: 10 });
    const size = 96;
    const patch = jigsaw.shape(size, opts).patch;
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const { y, origins } = viewOrigins(jigsaw, size, seed, opts);
      seen.add(y);
      expect(y).toBeLessThan(10);
      const perm = origins.map((o) => cellOf(size, patch, o));
      expect(new Set(perm).size).toBe(9);
      expect(perm).toEqual(permutationSet(10, 0)[y]);
    }
    expect(seen.size).toBe(10);
  });

  it('resolve() swaps a count for its set, giving identical samples', () => {
    const opts = jigsawOptions.parse({ permutations: 12, permutationSeed: 4 });
    const resolved = jigsaw.resolve!(opts);
    expect(resolved.permutations).toEqual(permutationSet(12, 4));
    const img = coordImages(64).rows;
    expect(paintSample(jigsaw, img, createRng(3), resolved)).toEqual(paintSample(jigsaw, img, createRng(3), opts));
  });

  it('uses an explicit set (as saved with a run) when given, validating it', () => {
    const set = [
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
      [8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const opts = jigsawOptions.parse({ permutations: set });
    expect(jigsaw.classes!(opts)).toBe(2);
    const { y, origins } = viewOrigins(jigsaw, 64, 5, opts);
    expect(origins.map((o) => cellOf(64, grid(64).patch, o))).toEqual(set[y]);
    expect(() => paintSample(jigsaw, coordImages(64).rows, createRng(0), jigsawOptions.parse({ permutations: [[0, 1, 2], [2, 1, 0]] }))).toThrow(
      /not a permutation of 0..8/,
    );
  });
});


describe('augmentation inside the samplers', () => {
  const jitter = augmentList.parse([{ name: 'intensity', brightness: 0.3, contrast: 0.3, gamma: 0.3 }]);
  const xray = async (size: number) => {
    const dir = join(fixtureDir(), 'train', 'NORMAL');
    const file = join(dir, readdirSync(dir).sort()[0]);
    return { pixels: new Uint8Array(await sharp(file).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer()), size };
  };

  it('rotation: on by default (crop + intensity jitter); k is drawn first, then the augmentations, then the turn', async () => {
    const img = await xray(64);
    const opts = rotation.options.parse({});
    expect(opts.augment.map((a) => a.name)).toEqual(['crop', 'intensity']);
    for (const seed of [1, 2, 3]) {
      const rng = createRng(seed);
      const k = rng.int(4);
      const want = rotate90(augment(img, rng, opts.augment).pixels, 64, k);
      const got = paintSample(rotation, img, createRng(seed), opts);
      expect(got.y).toBe(k);
      // the turn is folded into the crop's map: the same points, up to float rounding
      expect(got.x.every((v, i) => Math.abs(v - want[i]) <= 1)).toBe(true);
      expect(got.x.filter((v, i) => v !== want[i]).length).toBeLessThan(8);
      expect(got.x).not.toEqual(paintSample(rotation, img, createRng(seed), { augment: [] }).x);
    }
  });

  it.each(['context', 'jigsaw'])('%s: off by default; when given, each view is augmented after the crops, in view order', async (name) => {
    const task = getSampler(name) as typeof context;
    const img = await xray(96);
    const plain = task.options.parse({});
    expect(plain.augment).toEqual([]);
    const { views, patch } = task.shape(96, plain);
    const rng = createRng(11);
    const base = paintSample(task, img, rng, plain);
    const area = patch * patch;
    for (let v = 0; v < views; v++) base.x.set(augment({ pixels: base.x.slice(v * area, (v + 1) * area), size: patch }, rng, jitter).pixels, v * area);
    expect(paintSample(task, img, createRng(11), { ...plain, augment: jitter })).toEqual(base);
  });
});

describe('samplers on real X-rays', () => {
  it.each(Object.keys(SAMPLERS))('%s: shapes, labels in range, deterministic per seed', async (name) => {
    const task = getSampler(name);
    const opts = task.options.parse({});
    const dir = join(fixtureDir(), 'train', 'PNEUMONIA');
    const file = join(dir, readdirSync(dir).sort()[0]);
    for (const size of [64, 128]) {
      const pixels = new Uint8Array(
        await sharp(file).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer(),
      );
      const img = { pixels, size };
      const { views, patch, local } = task.shape(size, opts);
      const a = paintSample(task, img, createRng(9), opts);
      const b = paintSample(task, img, createRng(9), opts);
      expect(a.x.length).toBe(views * patch * patch + (local ? local.views * local.patch * local.patch : 0)); // multi-crop: local views follow
      expect(a).toEqual(b);
      if (task.classes) {
        expect(a.y).toBeGreaterThanOrEqual(0);
        expect(a.y).toBeLessThan(task.classes(opts));
      } else {
        expect(a.y).toBeUndefined(); // the views are each other's targets
        expect(a.x.subarray(0, patch * patch)).not.toEqual(a.x.subarray(patch * patch, 2 * patch * patch));
      }
      // real anatomy: views are not flat
      expect(new Set(a.x).size).toBeGreaterThan(20);
    }
  });

  it('describe() reads a label for a person', () => {
    expect(rotation.describe(3, rotation.options.parse({}))).toBe('rotated 270 deg (k=3)');
    expect(context.describe(3, context.options.parse({}))).toBe('neighbour 3: left of the centre');
    const set = [[0, 1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1, 0]];
    expect(jigsaw.describe(1, jigsawOptions.parse({ permutations: set }))).toBe('permutation 1: tiles from cells 8 7 6 5 4 3 2 1 0');
  });

  it('getSampler names the choices for an unknown task', () => {
    expect(() => getSampler('colorize')).toThrow(/rotation, context, jigsaw/);
  });
});

describe('augmented views (simclr, moco)', () => {
  it('view v is augment() of the whole image with the RNG left by views 0..v-1, exactly', async () => {
    const dir = join(fixtureDir(), 'train', 'NORMAL');
    const file = join(dir, readdirSync(dir).sort()[0]);
    const img = { pixels: new Uint8Array(await sharp(file).greyscale().resize(64, 64, { fit: 'fill' }).raw().toBuffer()), size: 64 };
    for (const sampler of [simclr, moco]) {
      const opts = sampler.options.parse({});
      expect(opts.augment.map((a) => a.name)).toEqual(['crop', 'rotate', 'intensity', 'blur', 'noise']); // no flip: anatomy is lateralised
      const rng = createRng(4);
      const want = [augment(img, rng, opts.augment).pixels, augment(img, rng, opts.augment).pixels];
      const got = paintSample(sampler, img, createRng(4), opts);
      expect(sampler.shape(64, opts)).toEqual({ views: 2, patch: 64 });
      expect(got.x).toEqual(Uint8Array.from([...want[0], ...want[1]]));
    }
  });

  it("holds only what the sampler reads: the loss's options are the method's (train/src/methods)", () => {
    expect(() => simclr.options.parse({ temperature: 0.1 })).toThrow(/temperature/);
    expect(() => moco.options.parse({ queue: 10 })).toThrow(/queue/);
  });
});
