import { move } from 'piscina';
import sharp from 'sharp';
import { decodeGreySizes } from '../decode.ts';

// one libvips thread per worker: the pool is the parallelism, avoid oversubscribing the cores
sharp.concurrency(1);

export interface DecodeTask {
  path: string;
  sizes: number[];
}

/** Decodes one file to every size; returns the rasters concatenated (moved, not copied). */
export default async function decodeTask({ path, sizes }: DecodeTask) {
  try {
    const rasters = await decodeGreySizes(path, sizes);
    const out = new Uint8Array(rasters.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of rasters) {
      out.set(r, o);
      o += r.length;
    }
    return move(out);
  } catch (e) {
    return { error: (e as Error).message };
  }
}
