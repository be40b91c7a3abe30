import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type EvalSettings, type ResultRow, evalFlags, evaluateEncoder, flagsShape, pairRows, settingsFromFlags } from '@cxr-ssl/eval';
import { ENCODERS } from '@cxr-ssl/models';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { asUsageErrors, baselineArch, cliRuntime, encoderLabels, openEvalCache, resolveEncoder } from '../evaluation.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_ENCODER, DEFAULT_RUNS_DIR, flag, int, pathName, strList } from '../options.ts';
import { REPORT_FILES, writePlots } from '../plots.ts';
import { writeResults } from '../report.ts';

/** What to evaluate and how: the flags of EvalSettings (protocols, fractions, seeds, feature extraction, each protocol's options). */
export const EVAL_FLAGS = evalFlags();

/** Options of `eval` and `linear` that are not evaluation settings: which encoders, on what data, where results go. */
export const EvalCommandOptions = z.object({
  encoders: strList(),
  /** name=encoder pairs: the label a named encoder's rows get (default: its run folder's name, or the built-in's) */
  label: strList().optional(),
  data: pathName().default('kermany-mini'),
  size: int().min(16).default(128),
  cacheDir: z.string().default(DEFAULT_CACHE_DIR),
  runsDir: z.string().default(DEFAULT_RUNS_DIR),
  /** architecture of 'random' / 'random-bn'; unset: the runs' encoder (baselineArch), else DEFAULT_ENCODER */
  arch: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).optional(),
  seed: int().nonnegative().default(0),
  python: z.string().optional(),
  out: z.string().optional(),
  /** replace the results and plots of an earlier evaluation in --out */
  overwrite: flag().default(false),
  quiet: flag().default(false),
});

export const EvalOptions = EvalCommandOptions.extend({
  imagenetEncoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('mobilenetv2-0.35'),
  imagenetWeights: z.string().optional(),
  ...flagsShape(EVAL_FLAGS),
}).strict();
export type EvalOptions = z.infer<typeof EvalOptions>;

/** The command's own flags, shared by `eval` and `linear`. */
export const COMMAND_FLAGS: [string, string][] = [
  ['--label <list>', 'name=encoder pairs, comma-separated: the label of that encoder\'s rows (default: its run folder\'s name; two encoders of one label are refused)'],
  ['--data <name>', 'prepared data set to evaluate on (may differ from the pretext data: transfer; default kermany-mini)'],
  ['--size <px>', 'image size (default 128)'],
  ['--seed <n>', 'first seed (default 0)'],
  ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
  ['--runs-dir <dir>', `run folders (default ${DEFAULT_RUNS_DIR})`],
  ['--arch <name>', `architecture of 'random' and 'random-bn' (default: the encoder of the runs evaluated, else ${DEFAULT_ENCODER})`],
  ['--python <path>', 'Python with torch (torch features, the torch engine)'],
  ['--overwrite', "replace an earlier evaluation's results.* and plots in --out"],
  ['--quiet', 'no progress output'],
];

/** Every named encoder under every protocol, label fraction and seed; results.json/.md and plots in `out`. */
export async function runEval(o: EvalOptions, title?: string): Promise<{ rows: ResultRow[]; out: string }> {
  const settings: EvalSettings = settingsFromFlags(EVAL_FLAGS, o);
  const out = resolve(o.out ?? join(o.runsDir, `eval-${o.data}-${o.size}`));
  // the named runs are checked first: a mistake in them is the likelier one
  const arch = baselineArch(o.encoders, o);
  const labels = encoderLabels(o.encoders, o);
  // refused before any work: an earlier evaluation's results are replaced only when asked
  const earlier = REPORT_FILES.filter((f) => existsSync(join(out, f)));
  if (earlier.length > 0 && !o.overwrite) throw new UsageError(`${out} already holds ${earlier.join(', ')} of an earlier evaluation: pass --overwrite to replace them (nothing else in the folder is touched), or choose another --out`);
  mkdirSync(out, { recursive: true });
  const cache = await openEvalCache(o.cacheDir, o.data, o.size, o.quiet);
  const refs = { runsDir: o.runsDir, arch, seed: o.seed, imagenet: o.imagenetWeights ? { encoder: o.imagenetEncoder, weights: resolve(o.imagenetWeights), outDir: join(out, 'imagenet') } : undefined };
  const ctx = { outDir: out, seed: o.seed, python: o.python, ...cliRuntime(o.quiet) };
  let rows: ResultRow[] = [];
  for (const ref of o.encoders) {
    const enc = await resolveEncoder(ref, labels.get(ref)!, refs, cache);
    rows.push(...(await asUsageErrors(() => evaluateEncoder(enc, cache, settings, ctx))));
  }
  rows = pairRows(rows);
  const cells = writeResults(out, rows, title ?? `Evaluation on ${o.data} at ${o.size} px (${settings.protocols.join(', ')})`);
  await writePlots(out, rows, [], cells);
  return { rows, out };
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'Evaluate encoders: linear probe, kNN or fine-tuning, at label fractions, over seeds, with paired differences to random init and ImageNet',
  flags: [
    ['--encoders <list>', "comma-separated: pretext run folders (or names under --runs-dir), 'random', 'random-bn' (random init, BatchNorm statistics recalibrated on the train images), 'imagenet'"],
    ...COMMAND_FLAGS,
    ['--imagenet-weights <path>', "ImageNet weights for 'imagenet' (safetensors or a TensorFlow.js layers folder)"],
    ['--imagenet-encoder <name>', 'architecture of those weights (default mobilenetv2-0.35)'],
    ['--out <dir>', 'where results go (default <runs-dir>/eval-<data>-<size>); an earlier evaluation there is refused unless --overwrite'],
    ...EVAL_FLAGS.map((f): [string, string] => [f.flag, f.help]),
  ],
  schema: EvalOptions,
  async run(o) {
    const { out } = await runEval(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
