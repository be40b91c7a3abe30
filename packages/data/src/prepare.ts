import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getAdapter } from './adapters/index.ts';
import { type DatasetAdapter, type Problem, problemReport, type Split } from './adapters/types.ts';
import { type BadImage, Manifest, type ManifestEntry, cacheFiles } from './cache/format.ts';
import { defaultWorkers } from './pool.ts';
import { type SizeResult, writeCache } from './cache/write.ts';
import { type SamePixels, samePixels, samePixelsReport, xrays } from './cache/duplicates.ts';
import { carveValidation } from './split.ts';
import { resourceProblem } from './resources.ts';

export { CacheLockedError, CacheMismatchError } from './cache/write.ts';

export interface PrepareOptions {
  /** adapter name in ADAPTERS, or an adapter object */
  adapter: string | DatasetAdapter<unknown>;
  /** adapter-specific options (validated by the adapter's zod schema) */
  adapterOptions?: unknown;
  root: string;
  sizes: number[];
  cacheDir: string;
  name: string;
  workers?: number;
  /** share of the training pool carved out for validation, by patient (default 0.1) */
  valFraction?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  overwrite?: boolean;
  /** fail (after writing the cache and its bad-image list) when any image could not be read */
  strict?: boolean;
  /** write the resume point every this many images (default 256) */
  checkpointEvery?: number;
  signal?: AbortSignal;
}

/** prepare() finished the cache but the result is not usable as asked (nothing left, or --strict). */
export class PrepareError extends Error {}

export type SplitCounts = Record<Split, { normal: number; abnormal: number }>;

export interface PrepareSummary {
  name: string;
  root: string;
  adapter: string;
  sizes: SizeResult[];
  /** images in the cache per split and label (bad images excluded) */
  counts: SplitCounts;
  /** the label structure kept for `eval --target`: images per split and class, and per split and finding (only what the source has) */
  labels: { classes?: Record<Split, Record<string, number>>; findings?: Record<Split, Record<string, number>> };
  total: number;
  /** images that could not be decoded: skipped, listed in <name>-<size>.bad.json */
  bad: BadImage[];
  /** source problems found by the scan (bad CSV rows, stray files): skipped */
  problems: Problem[];
  /** images with identical pixels under several ids (kept; refused by `strict` when their splits differ) */
  duplicates: SamePixels[];
}

/** Scan a data set, carve validation out of train, decode + resize into the cache at each size. */
export async function prepare(o: PrepareOptions): Promise<PrepareSummary> {
  if (!/^[\w.-]+$/.test(o.name)) throw new Error(`data set name '${o.name}': use letters, digits, . _ - only`);
  const adapter = typeof o.adapter === 'string' ? getAdapter(o.adapter) : o.adapter;
  const parsed = adapter.options.safeParse(o.adapterOptions ?? {});
  if (!parsed.success) {
    throw new Error(`options of the ${adapter.name} adapter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const root = resolve(o.root);
  const { entries, problems } = await adapter.scan(root, parsed.data);
  if (o.strict && problems.length > 0) {
    // before any image is decoded: --strict means every row of the source is used, or nothing
    throw new PrepareError(`--strict: ${problems.length} entries of ${root} would be dropped:\n${problemReport(problems)}\nFix them in the source, or rerun without --strict to skip them.`);
  }
  // pixels x images against free disk and memory, before the first image is decoded
  const missing = o.sizes.filter((size) => !existsSync(cacheFiles(o.cacheDir, o.name, size).json));
  const workers = o.workers ?? defaultWorkers();
  const short = resourceProblem({ images: entries.length, sizes: missing, cacheDir: o.cacheDir, inFlight: Math.max(1, workers) * 4 });
  if (short) throw new PrepareError(short);
  const valFraction = o.valFraction ?? 0.1;
  const seed = o.seed ?? 0;
  const split = carveValidation(entries, { fraction: valFraction, seed });
  const written = await writeCache({
    dir: o.cacheDir,
    name: o.name,
    sizes: o.sizes,
    entries: split,
    root,
    options: { adapter: adapter.name, adapterOptions: parsed.data, valFraction, seed },
    workers: o.workers,
    onProgress: o.onProgress,
    overwrite: o.overwrite,
    checkpointEvery: o.checkpointEvery,
    signal: o.signal,
  });
  const badFile = written.sizes[0].files.bad;
  const listed = (b: BadImage[]) => b.slice(0, 3).map((x) => `${x.source}: ${x.reason}`).join('\n  ');
  if (written.bad.length > 0 && written.bad.length >= split.length) {
    throw new PrepareError(
      `none of the ${split.length} images of ${root} could be read (all listed in ${badFile}), e.g.\n  ${listed(written.bad)}\nCheck that --source points at the images and that they are PNG/JPEG/DICOM files.`,
    );
  }
  if (o.strict && written.bad.length > 0) {
    throw new PrepareError(
      `${written.bad.length} of ${split.length} images could not be read (--strict); they are listed in ${badFile}, e.g.\n  ${listed(written.bad)}\nFix or remove them and rerun with --force, or rerun without --strict to skip them (the ${split.length - written.bad.length} good images are already cached).`,
    );
  }
  // the smallest size is enough to tell images apart, and the cheapest to read
  const duplicates = samePixels(o.cacheDir, o.name, written.sizes[0].size);
  const leaks = duplicates.filter((g) => new Set(g.splits).size > 1);
  if (o.strict && leaks.length > 0) {
    throw new PrepareError(
      `--strict: ${xrays(leaks.length)} in more than one split under different paths (the same pixels: a leak between train and test), e.g.\n${samePixelsReport(leaks)}\n` +
        'List each X-ray once (remove the copies or links from the source), then rerun with --force; or rerun without --strict to keep them.',
    );
  }
  const manifest = Manifest.parse(JSON.parse(readFileSync(written.sizes[0].files.json, 'utf8')));
  const counts: SplitCounts = { train: { normal: 0, abnormal: 0 }, val: { normal: 0, abnormal: 0 }, test: { normal: 0, abnormal: 0 } };
  for (const e of manifest.entries) counts[e.split][e.label ? 'abnormal' : 'normal']++;
  return { name: o.name, root, adapter: adapter.name, sizes: written.sizes, counts, labels: labelCounts(manifest.entries), total: manifest.count, bad: written.bad, problems, duplicates };
}

/** Images per split and class, and per split and finding, where the entries have them. */
function labelCounts(entries: readonly ManifestEntry[]): PrepareSummary['labels'] {
  const tally = (names: (e: ManifestEntry) => string[] | undefined) => {
    if (!entries.some((e) => names(e) !== undefined)) return undefined;
    const out = { train: {}, val: {}, test: {} } as Record<Split, Record<string, number>>;
    for (const e of entries) for (const n of names(e) ?? []) out[e.split][n] = (out[e.split][n] ?? 0) + 1;
    return out;
  };
  const classes = tally((e) => (e.class === undefined ? undefined : [e.class]));
  const findings = tally((e) => e.findings);
  return { ...(classes ? { classes } : {}), ...(findings ? { findings } : {}) };
}
