import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Split } from '../adapters/types.ts';
import type { Image } from '../types.ts';
import { Manifest, cacheFiles, parseJsonFile } from './format.ts';

/** Caches up to this size are read into memory at open; larger ones are read image by image. */
export const WHOLE_READ_LIMIT = 256 * 1024 * 1024;

export interface CacheInfo {
  dir: string;
  name: string;
  size: number;
}

export interface DatasetCache {
  manifest: Manifest;
  count: number;
  size: number;
  files: { u8: string; json: string };
  /** image i as S x S uint8 (a view into memory for small caches, a fresh buffer otherwise) */
  image(i: number): Uint8Array;
  /** same, as the samplers take it */
  get(i: number): Image;
  /** row indices of one split, ascending */
  indices(split: Split): number[];
  close(): void;
}

export function openCache(dir: string, name: string, size: number, opts: { wholeReadLimit?: number } = {}): DatasetCache {
  const files = cacheFiles(dir, name, size);
  if (!existsSync(files.json)) {
    const hint = existsSync(files.progress) ? ' (an interrupted prepare: rerun it to finish)' : '';
    throw new Error(`no dataset cache ${files.json}${hint}: run \`cxr-ssl prepare --name ${name} --sizes ${size}\` first`);
  }
  const manifest = parseJsonFile(Manifest, readFileSync(files.json, 'utf8'), files.json, 'dataset cache manifest');
  if (manifest.size !== size) throw new Error(`${files.json} holds ${manifest.size} px images, not ${size}: prepare again`);
  const rowBytes = size * size;
  if (!existsSync(files.u8)) {
    throw new Error(`${files.u8} is missing although its manifest ${files.json} is there: run \`cxr-ssl prepare --name ${name} --sizes ${size}\` again`);
  }
  const fd = openSync(files.u8, 'r');
  const bytes = fstatSync(fd).size;
  if (bytes !== manifest.count * rowBytes) {
    closeSync(fd);
    throw new Error(
      `${files.u8} has ${bytes} bytes, expected ${manifest.count} x ${size} x ${size} = ${manifest.count * rowBytes}: ` +
        `the cache is damaged, prepare it again with --force`,
    );
  }
  let whole: Uint8Array | undefined;
  if (bytes <= (opts.wholeReadLimit ?? WHOLE_READ_LIMIT)) {
    whole = new Uint8Array(bytes);
    for (let o = 0; o < bytes; ) o += readSync(fd, whole, o, bytes - o, o);
    closeSync(fd);
  }
  const bySplit = new Map<Split, number[]>();
  manifest.entries.forEach((e, i) => {
    const l = bySplit.get(e.split);
    if (l) l.push(i);
    else bySplit.set(e.split, [i]);
  });
  let closed = false;
  const image = (i: number): Uint8Array => {
    if (!Number.isInteger(i) || i < 0 || i >= manifest.count) {
      throw new Error(`image index ${i} out of range for ${files.u8} (0..${manifest.count - 1})`);
    }
    if (whole) return whole.subarray(i * rowBytes, (i + 1) * rowBytes);
    if (closed) throw new Error(`${files.u8} is closed`);
    const out = new Uint8Array(rowBytes);
    for (let o = 0; o < rowBytes; ) o += readSync(fd, out, o, rowBytes - o, i * rowBytes + o);
    return out;
  };
  return {
    manifest,
    count: manifest.count,
    size,
    files,
    image,
    get: (i) => ({ pixels: image(i), size }),
    indices: (split) => [...(bySplit.get(split) ?? [])],
    close() {
      if (!whole && !closed) closeSync(fd);
      closed = true;
    },
  };
}
