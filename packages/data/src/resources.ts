import { existsSync, statfsSync } from 'node:fs';
import { freemem } from 'node:os';
import { dirname, resolve } from 'node:path';

/** Bytes in a human unit, for messages. */
export const humanBytes = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);

/** Free bytes on the file system that holds `path` (or would: its nearest existing folder). */
function freeDisk(path: string): number {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * What a cache of `images` images at `sizes` needs, checked against free disk and memory before
 * any image is decoded: the cache is images x size² bytes per size, and each image in flight holds
 * its resized copies (`inFlight` images at once, ~3 buffers each). Returns the problem, if any.
 */
export function resourceProblem(o: { images: number; sizes: readonly number[]; cacheDir: string; inFlight: number }): string | undefined {
  const perImage = o.sizes.reduce((a, s) => a + s * s, 0);
  const disk = o.images * perImage;
  const memory = o.inFlight * perImage * 3;
  const sizes = o.sizes.join(',');
  const free = freeDisk(o.cacheDir);
  if (disk > free) {
    return `a cache of ${o.images} images at ${sizes} px needs ${humanBytes(disk)} in ${resolve(o.cacheDir)}, and ${humanBytes(free)} is free: prepare smaller --sizes, or free space there`;
  }
  const mem = freemem();
  if (memory > mem) {
    return `decoding at ${sizes} px holds about ${humanBytes(memory)} in memory (${o.inFlight} images in flight), and ${humanBytes(mem)} is free: prepare smaller --sizes (or fewer --workers)`;
  }
  return undefined;
}
