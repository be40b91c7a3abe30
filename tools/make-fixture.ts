/**
 * Rebuilds fixtures/kermany-mini from ../shared/data/kermany-pneumonia-224: the first N images of
 * each class and split (sorted by name), downscaled to 128 px 8-bit grey PNG. Run once; committed.
 *   npx tsx tools/make-fixture.ts [sharedDataDir]
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const src = process.argv[2] ?? join(import.meta.dirname, '../../shared/data/kermany-pneumonia-224');
const out = join(import.meta.dirname, '../fixtures/kermany-mini');
const counts = { train: 32, test: 16 } as const;
for (const [split, n] of Object.entries(counts)) {
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    const dir = join(src, split, cls);
    const names = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
    mkdirSync(join(out, split, cls), { recursive: true });
    for (const name of names) {
      await sharp(join(dir, name))
        .greyscale()
        .resize(128, 128)
        .png({ compressionLevel: 9 })
        .toFile(join(out, split, cls, name.replace(/\.jpe?g$/i, '.png')));
    }
  }
}
console.log(`wrote ${out}`);
