import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGrey } from '../decode.ts';
import { fixtureDir } from '../paths.ts';
import type { Image } from '../types.ts';

/**
 * The committed fixture (fixtures/kermany-mini, real X-rays) decoded the way prepare decodes,
 * for tests and benches. Labels: 0 = NORMAL, 1 = PNEUMONIA (abnormal).
 */
export interface FixtureImages {
  count: number;
  size: number;
  image(i: number): Uint8Array;
  labels: Int32Array;
  split: ('train' | 'test')[];
  files: string[];
}

const CLASSES = ['NORMAL', 'PNEUMONIA'] as const;

/** The PNGs of one split and class, sorted. */
function fixtureFiles(split: 'train' | 'test', cls: (typeof CLASSES)[number]): string[] {
  const dir = join(fixtureDir(), split, cls);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(dir, f));
}

/** Every fixture image (train then test, NORMAL then PNEUMONIA) at `size`, with label and split. */
export async function loadFixture(size: number): Promise<FixtureImages> {
  const rows = (['train', 'test'] as const).flatMap((split) => CLASSES.flatMap((cls, label) => fixtureFiles(split, cls).map((file) => ({ file, label, split }))));
  const pixels = await Promise.all(rows.map((r) => decodeGrey(r.file, size)));
  return {
    count: rows.length,
    size,
    image: (i) => pixels[i],
    labels: Int32Array.from(rows, (r) => r.label),
    split: rows.map((r) => r.split),
    files: rows.map((r) => r.file),
  };
}

/** Row indices of one split. */
export function splitIndices(fx: FixtureImages, s: 'train' | 'test'): number[] {
  return fx.split.flatMap((v, i) => (v === s ? [i] : []));
}

/** `count` train images, NORMAL and PNEUMONIA alternating (repeating past the split's end), at `size`. */
export async function fixtureImages(count: number, size: number): Promise<Image[]> {
  const lists = CLASSES.map((cls) => fixtureFiles('train', cls));
  const files = Array.from({ length: count }, (_, i) => lists[i % 2][Math.floor(i / 2) % lists[i % 2].length]);
  return Promise.all(files.map(async (f) => ({ pixels: await decodeGrey(f, size), size })));
}
