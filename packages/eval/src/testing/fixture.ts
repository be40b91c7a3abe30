import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

/**
 * Test/bench helper: the committed kermany-mini fixture (real 128 px X-rays) decoded to grey
 * uint8 at `size`, in the same `{ count, size, image(i) }` shape as the dataset cache reader.
 * Labels: 0 = NORMAL, 1 = PNEUMONIA (abnormal).
 */
export interface FixtureImages {
  count: number;
  size: number;
  image(i: number): Uint8Array;
  labels: Int32Array;
  split: ('train' | 'test')[];
  files: string[];
}

export const fixtureRoot = resolve(import.meta.dirname, '../../../../fixtures/kermany-mini');

export async function loadFixture(size: number): Promise<FixtureImages> {
  const files: string[] = [];
  const labels: number[] = [];
  const split: ('train' | 'test')[] = [];
  for (const s of ['train', 'test'] as const) {
    for (const [cls, label] of [
      ['NORMAL', 0],
      ['PNEUMONIA', 1],
    ] as const) {
      const dir = join(fixtureRoot, s, cls);
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.png')).sort()) {
        files.push(join(dir, f));
        labels.push(label);
        split.push(s);
      }
    }
  }
  const pixels = await Promise.all(
    files.map(async (f) => {
      const { data, info } = await sharp(f)
        .greyscale()
        .resize(size, size, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 1 || data.length !== size * size) {
        throw new Error(`${f}: decoded to ${info.channels} channels / ${data.length} bytes, expected 1 / ${size * size}`);
      }
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    }),
  );
  return {
    count: files.length,
    size,
    image: (i) => pixels[i],
    labels: Int32Array.from(labels),
    split,
    files,
  };
}

/** Row indices of one split. */
export function splitIndices(fx: FixtureImages, s: 'train' | 'test'): number[] {
  return fx.split.flatMap((v, i) => (v === s ? [i] : []));
}
