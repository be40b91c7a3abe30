import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** Test helper: real X-rays from the committed fixture (fixtures/kermany-mini), resized grey. */
function fixtureDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'fixtures', 'kermany-mini'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`fixtures/kermany-mini not found above ${import.meta.dirname}: is the checkout complete?`);
    dir = up;
  }
  return join(dir, 'fixtures', 'kermany-mini');
}

/** The first `count` fixture images (train split, both classes interleaved), `size` x `size` uint8. */
export async function fixtureImages(count: number, size: number): Promise<Uint8Array[]> {
  const root = join(fixtureDir(), 'train');
  const lists = ['NORMAL', 'PNEUMONIA'].map((c) =>
    readdirSync(join(root, c))
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map((f) => join(root, c, f)),
  );
  const files = Array.from({ length: count }, (_, i) => lists[i % 2][Math.floor(i / 2)]);
  return Promise.all(
    files.map(async (f) => {
      const { data } = await sharp(f).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      if (data.length !== size * size) throw new Error(`${f}: expected ${size * size} grey pixels, got ${data.length}`);
      return new Uint8Array(data);
    }),
  );
}
