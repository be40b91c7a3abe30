import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The dataset cache, one pair of files per (name, size):
 *   <dir>/<name>-<size>.u8    N x S x S uint8 grey pixels, row-major, image i at byte i * S * S
 *   <dir>/<name>-<size>.json  the manifest below; row i of the .u8 is entries[i]
 *   <dir>/<name>-<size>.bad.json  images that could not be read, with the reason (skipped)
 * While being written: <name>-<size>.u8.partial (rows appended in source order) and
 * <name>-<size>.progress.json (how far the .partial is valid); a rerun continues from there.
 * sourceHash is `<bytes>-<mtime ms>` from stat: free to compute for 112k NIH images, and any
 * re-export or edit of a file changes it (a sha1 of the bytes would mean reading 45 GB).
 */
export const CACHE_VERSION = 2;
/**
 * Versions still read: 1 kept the study's label (and NIH's findings) but not the class structure
 * (a folder's class was its `findings`); `eval --target classes|findings` asks for a version-2 cache.
 */
export const READABLE_CACHE_VERSIONS = [1, 2] as const;

export const SplitName = z.enum(['train', 'val', 'test']);

export const ManifestEntry = z.object({
  id: z.string(),
  label: z.union([z.literal(0), z.literal(1)]),
  /** the image's one class when the source has several (Kermany: NORMAL, bacteria, virus): `eval --target classes` */
  class: z.string().optional(),
  /** its findings when the source has several per image ([] = none: NIH's 'No Finding'): `eval --target findings` */
  findings: z.array(z.string()).optional(),
  split: SplitName,
  patient: z.string().optional(),
  /** path relative to the manifest's `root` ('/'-separated), or absolute when outside it */
  source: z.string(),
  sourceHash: z.string(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z
  .object({
    version: z.union(READABLE_CACHE_VERSIONS.map((v) => z.literal(v)) as [z.ZodLiteral<1>, z.ZodLiteral<2>]),
    name: z.string(),
    size: z.number().int().positive(),
    count: z.number().int().nonnegative(),
    /** sha1 of everything that shapes the pixels and the entries (decoder, size, split, adapter) */
    optionsHash: z.string(),
    /** sha1 of the planned entries with their source hashes: changes when the sources do */
    planHash: z.string(),
    root: z.string(),
    created: z.string(),
    entries: z.array(ManifestEntry),
  })
  .refine((m) => m.count === m.entries.length, { message: 'count differs from the number of entries' });
export type Manifest = z.infer<typeof Manifest>;

export const BadImage = z.object({ id: z.string(), source: z.string(), reason: z.string() });
export type BadImage = z.infer<typeof BadImage>;
export const BadList = z.array(BadImage);

export const Progress = z.object({
  version: z.literal(CACHE_VERSION),
  size: z.number().int().positive(),
  optionsHash: z.string(),
  planHash: z.string(),
  /** source entries handled (decoded or found bad), in plan order */
  processed: z.number().int().nonnegative(),
  /** rows of the .partial that are valid */
  rows: z.number().int().nonnegative(),
  bad: BadList,
});
export type Progress = z.infer<typeof Progress>;

export function cacheFiles(dir: string, name: string, size: number) {
  const base = join(dir, `${name}-${size}`);
  return {
    u8: `${base}.u8`,
    json: `${base}.json`,
    bad: `${base}.bad.json`,
    partial: `${base}.u8.partial`,
    progress: `${base}.progress.json`,
  };
}

export function sha1(value: unknown): string {
  return createHash('sha1').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('hex');
}

/** Parses a manifest/progress file, naming the file in the error. */
export function parseJsonFile<T>(schema: z.ZodType<T>, text: string, file: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}): delete it and prepare the data set again`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${file} is not a valid ${what} (${issues}): prepare the data set again (--force)`);
  }
  return r.data;
}
