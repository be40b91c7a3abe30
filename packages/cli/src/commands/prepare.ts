import { basename, resolve } from 'node:path';
import { ADAPTERS, fixtureDir, prepare as prepareDataset, problemReport, samePixelsReport, xrays } from '@cxr-ssl/data';
import { z } from 'zod';
import { arg, defineCommand, toggle } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_SIZE, defaultWorkers, flag, int, intList, num, pathName, quietOption } from '../options.ts';
import { progress } from '../progress.ts';

/** The largest size prepared without --allow-large-sizes (the study's largest is 256 px). */
export const MAX_PREPARE_SIZE = 1024;

/** prepare's options; reproduce's `data:` block takes its fields from here too. */
export const PrepareFields = z
  .object({
    source: z.string().optional().meta(arg('<path>', 'folder per class (<root>/<split>/<CLASS>/*.png|jpg) or a CSV manifest; default: fixtures/kermany-mini')),
    adapter: z.enum(['auto', ...(Object.keys(ADAPTERS) as [string, ...string[]])]).default('auto').meta(arg('<name>', "the source's layout; auto: csv for a .csv source, else folder; nih for NIH ChestX-ray14")),
    name: pathName().optional().meta(arg('<name>', 'name of the prepared set in the cache (default: the source folder name)')),
    sizes: intList().default([DEFAULT_SIZE]).meta(arg('<list>', 'image sizes in px, comma-separated')),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR).meta(arg('<dir>', 'where prepared sets live')),
    workers: int().nonnegative().default(defaultWorkers()).meta(arg('<n>', 'decoding worker threads, 0 = in-process; the default is this machine\'s: cores - 1 from 4 cores up, else 0')),
    valFraction: num().min(0).max(0.5).default(0.1).meta(arg('<f>', 'share of train carved out for validation, by patient, when the source has no val split')),
    seed: int().nonnegative().default(0).meta(arg('<n>', 'seed of the validation carve-out')),
    force: flag().default(false).meta(toggle('rebuild a cache that was prepared with other options')),
    strict: flag()
      .default(false)
      .meta(toggle('exit non-zero when any source row is dropped (before decoding), any image cannot be read, or one X-ray is in two splits under two paths (without it: count them on stderr, list bad images in <name>-<size>.bad.json, skip them)')),
    checkpointEvery: int().positive().default(256).meta(arg('<n>', 'save the resume point every n images')),
    allowMissing: flag().default(false).meta(toggle('go on when images listed by the metadata are absent (a partial download)')),
    metadataDir: z.string().optional().meta(arg('<dir>', 'nih: the folder of Data_Entry_2017(_v2020).csv and the split lists, when not --source itself')),
    /** sizes above MAX_PREPARE_SIZE are refused unless asked for: one 100,000 px image is 10 GB */
    allowLargeSizes: flag().default(false).meta(toggle(`prepare sizes above ${MAX_PREPARE_SIZE} px (free disk and memory are still checked first)`)),
    quiet: quietOption(),
  })
  .strict();

export const PrepareOptions = PrepareFields.superRefine((o, ctx) => {
  const large = o.sizes.filter((s) => s > MAX_PREPARE_SIZE);
  if (large.length && !o.allowLargeSizes) {
    ctx.addIssue({ code: 'custom', path: ['sizes'], message: `${large.join(', ')} px is above ${MAX_PREPARE_SIZE} px (one image at ${large[0]} px is ${(large[0] ** 2 / 2 ** 20).toFixed(0)} MiB): pass --allow-large-sizes if you mean it` });
  }
});
export type PrepareOptions = z.infer<typeof PrepareOptions>;

export async function runPrepare(o: PrepareOptions) {
  const source = resolve(o.source ?? fixtureDir());
  const name = o.name ?? basename(source).replace(/\.csv$/i, '');
  const adapter = o.adapter === 'auto' ? (/\.csv$/i.test(source) ? 'csv' : 'folder') : o.adapter;
  if (o.metadataDir && adapter !== 'nih') throw new UsageError(`--metadata-dir is the nih adapter's (where Data_Entry_2017 is): pass --adapter nih, or drop it`);
  let bar: ReturnType<typeof progress> | undefined;
  const summary = await prepareDataset({
    adapter,
    root: source,
    sizes: o.sizes,
    cacheDir: o.cacheDir,
    name,
    workers: o.workers,
    valFraction: o.valFraction,
    seed: o.seed,
    overwrite: o.force,
    strict: o.strict,
    checkpointEvery: o.checkpointEvery,
    adapterOptions: o.allowMissing || o.metadataDir ? { ...(o.allowMissing ? { allowMissing: true } : {}), ...(o.metadataDir ? { metadataDir: resolve(o.metadataDir) } : {}) } : undefined,
    onProgress: (done: number, total: number) => {
      bar ??= progress(`prepare ${name}`, total, o.quiet);
      bar.update(done);
    },
  });
  bar?.stop();
  return { name, summary };
}

export const prepare = defineCommand({
  name: 'prepare',
  summary: 'Scan a data set, decode and resize its X-rays into the dataset cache (default: the bundled fixture)',
  schema: PrepareOptions,
  async run(o) {
    const { summary } = await runPrepare(o);
    if (summary.problems.length > 0) {
      // every dropped entry is counted here, not only in the stdout JSON
      process.stderr.write(`${summary.problems.length} entries of the source were dropped (--strict makes this an error):\n${problemReport(summary.problems)}\n`);
    }
    if (summary.duplicates.length > 0) {
      const leaks = summary.duplicates.filter((g) => new Set(g.splits).size > 1).length;
      process.stderr.write(
        `${xrays(summary.duplicates.length)} listed under more than one path (the same pixels)${leaks ? `, ${leaks} of them in different splits: a leak between train and test (--strict refuses it)` : ''}, e.g.\n${samePixelsReport(summary.duplicates)}\n`,
      );
    }
    if (summary.bad.length > 0) {
      process.stderr.write(`${summary.bad.length} images could not be read: skipped, listed in ${summary.sizes[0].files.bad} (--strict makes this an error)\n`);
    }
    console.log(JSON.stringify(summary, null, 2));
  },
});
