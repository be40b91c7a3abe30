import { createHash } from 'node:crypto';
import type { Split } from '../adapters/types.ts';
import { openCache } from './read.ts';

/** Images whose cached pixels are identical: one X-ray listed under several paths (a symlink, a copy). */
export interface SamePixels {
  /** the entries' ids, in cache order */
  ids: string[];
  splits: Split[];
  labels: (0 | 1)[];
}

/**
 * The groups of identical images of a prepared cache, by a hash of their cached pixels (read row by
 * row from the .u8: free next to decoding, and blind to how the files differ in bytes or names).
 * Two different X-rays do not resize to the same pixels; one listed twice with two labels, or in
 * two splits, is the classic leak between train and test.
 */
export function samePixels(dir: string, name: string, size: number): SamePixels[] {
  const cache = openCache(dir, name, size, { wholeReadLimit: 0 });
  try {
    const byHash = new Map<string, number[]>();
    for (let i = 0; i < cache.count; i++) {
      const h = createHash('sha1').update(cache.image(i)).digest('hex');
      const rows = byHash.get(h);
      if (rows) rows.push(i);
      else byHash.set(h, [i]);
    }
    const entries = cache.manifest.entries;
    return [...byHash.values()]
      .filter((rows) => rows.length > 1)
      .map((rows) => ({ ids: rows.map((i) => entries[i].id), splits: rows.map((i) => entries[i].split), labels: rows.map((i) => entries[i].label) }));
  } finally {
    cache.close();
  }
}

/** '1 X-ray is', '2 X-rays are' */
export const xrays = (n: number) => (n === 1 ? '1 X-ray is' : `${n} X-rays are`);

/** One line per group, e.g. `a.png (train, label 0) = b.png (test, label 1)`. */
export function samePixelsReport(groups: readonly SamePixels[], examples = 3): string {
  return groups
    .slice(0, examples)
    .map((g) => `  ${g.ids.map((id, k) => `${id} (${g.splits[k]}, label ${g.labels[k]})`).join(' = ')}`)
    .join('\n');
}
