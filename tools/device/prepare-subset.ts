/**
 * pack.sh helper (runs HERE, where sharp is): a dataset cache of `count` real X-rays from
 * ../shared/data/kermany-pneumonia-224 (half NORMAL, half PNEUMONIA) at the given sizes, written
 * by @cxr-ssl/data's prepare, so the GPU box needs no image decoding.
 *   prepare-subset.ts <cacheDir> <count> <size>...
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepare } from '@cxr-ssl/data';
import { sharedDataDir } from '@cxr-ssl/data/testing';

const [cacheDir, countArg, ...sizes] = process.argv.slice(2);
const shared = sharedDataDir();
if (!shared) throw new Error('../shared/data is absent: pack.sh needs ../shared/data/kermany-pneumonia-224');
const source = join(shared, 'kermany-pneumonia-224', 'train');
const count = Number(countArg);
const root = mkdtempSync(join(tmpdir(), 'cxr-subset-'));
try {
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    mkdirSync(join(root, 'train', cls), { recursive: true });
    const files = readdirSync(join(source, cls)).sort().slice(0, count / 2);
    for (const f of files) copyFileSync(join(source, cls, f), join(root, 'train', cls, f));
  }
  const summary = await prepare({
    adapter: 'folder',
    root,
    sizes: sizes.map(Number),
    cacheDir,
    name: 'kermany',
    valFraction: 0,
    overwrite: true,
  });
  console.log(`prepared ${summary.total} images at ${sizes.join(', ')} px into ${cacheDir} (${summary.bad.length} bad)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
