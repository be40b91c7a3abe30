import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type EvalSettings, type ResultRow, evalFlags, evaluateEncoder, pairRows, settingsFromFlags, targetLabels, writeEvalBoard } from '@cxr-ssl/eval';
import { ENCODERS } from '@cxr-ssl/models';
import { z } from 'zod';
import { arg, defineCommand, toggle } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { asUsageErrors, baselineArch, cliRuntime, encoderLabels, flagFields, openEvalCache, resolveEncoder } from '../evaluation.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_DATA, DEFAULT_ENCODER, DEFAULT_RUNS_DIR, DEFAULT_SIZE, flag, int, pathName, pythonOption, quietOption, strList } from '../options.ts';
import { type CurvePoint, REPORT_FILES, writePlots } from '../plots.ts';
import { addReportSection, writeResults } from '../report.ts';

/** What to evaluate and how: the flags of EvalSettings (protocols, fractions, seeds, feature extraction, each protocol's options). */
export const EVAL_FLAGS = evalFlags();

const encoderName = z.enum(Object.keys(ENCODERS) as [string, ...string[]]);

/** Options of `eval` and `linear` that are not evaluation settings: which encoders, on what data, where results go. */
export const EvalCommandOptions = z.object({
  encoders: strList().meta(arg('<list>', "comma-separated: pretext run folders (or names under --runs-dir), 'random', 'random-bn' (random init, BatchNorm statistics recalibrated on the train images), 'imagenet'")),
  label: strList()
    .optional()
    .meta(arg('<list>', "name=encoder pairs, comma-separated: the label of that encoder's rows (default: its run folder's name; two encoders of one label are refused)")),
  data: pathName().default(DEFAULT_DATA).meta(arg('<name>', 'prepared data set to evaluate on (may differ from the pretext data: transfer)')),
  size: int().min(16).default(DEFAULT_SIZE).meta(arg('<px>', 'image size')),
  seed: int().nonnegative().default(0).meta(arg('<n>', 'first seed')),
  cacheDir: z.string().default(DEFAULT_CACHE_DIR).meta(arg('<dir>', 'dataset cache folder')),
  runsDir: z.string().default(DEFAULT_RUNS_DIR).meta(arg('<dir>', 'run folders')),
  arch: encoderName.optional().meta(arg('<name>', `architecture of 'random' and 'random-bn' (default: the encoder of the runs evaluated, else ${DEFAULT_ENCODER})`)),
  python: pythonOption(),
  out: z.string().optional().meta(arg('<dir>', 'where results go (default <runs-dir>/eval-<data>-<size>); an earlier evaluation there is refused unless --overwrite')),
  overwrite: flag().default(false).meta(toggle("replace an earlier evaluation's results.* and plots in --out")),
  quiet: quietOption(),
});

export const EvalOptions = EvalCommandOptions.extend({
  imagenetWeights: z.string().optional().meta(arg('<path>', "ImageNet weights for 'imagenet' (safetensors or a TensorFlow.js layers folder)")),
  imagenetEncoder: encoderName.default('mobilenetv2-0.35').meta(arg('<name>', 'architecture of those weights')),
  ...flagFields(EVAL_FLAGS),
}).strict();
export type EvalOptions = z.infer<typeof EvalOptions>;

/** What a command adds to the report of its evaluation: its title, sections of its own (addReportSection), pretext curves. */
export interface ReportExtras {
  title?: string;
  /** each starts with its '## ' heading; they go after the settings, ahead of the plots */
  sections?: string[];
  curves?: CurvePoint[];
}

/** Every named encoder under every protocol, label fraction and seed; results.json/.md and plots in `out`. */
export async function runEval(o: EvalOptions, { title, sections = [], curves = [] }: ReportExtras = {}): Promise<{ rows: ResultRow[]; out: string }> {
  const settings: EvalSettings = await asUsageErrors(async () => settingsFromFlags(EVAL_FLAGS, o));
  const out = resolve(o.out ?? join(o.runsDir, `eval-${o.data}-${o.size}`));
  // the named runs are checked first: a mistake in them is the likelier one
  const arch = baselineArch(o.encoders, o);
  const labels = encoderLabels(o.encoders, o);
  // refused before any work: an earlier evaluation's results are replaced only when asked
  const earlier = REPORT_FILES.filter((f) => existsSync(join(out, f)));
  if (earlier.length > 0 && !o.overwrite) throw new UsageError(`${out} already holds ${earlier.join(', ')} of an earlier evaluation: pass --overwrite to replace them (nothing else in the folder is touched), or choose another --out`);
  const cache = await openEvalCache(o.cacheDir, o.data, o.size, o.quiet);
  // a target the data set has no labels for is refused before any encoder is made, and before the evaluation folder
  await asUsageErrors(async () => targetLabels(settings.target, cache.manifest, `${o.data} at ${o.size} px`));
  mkdirSync(out, { recursive: true });
  const refs = { runsDir: o.runsDir, arch, seed: o.seed, imagenet: o.imagenetWeights ? { encoder: o.imagenetEncoder, weights: resolve(o.imagenetWeights), outDir: join(out, 'imagenet') } : undefined };
  const ctx = { outDir: out, seed: o.seed, python: o.python, ...cliRuntime(o.quiet) };
  let rows: ResultRow[] = [];
  for (const ref of o.encoders) {
    const enc = await resolveEncoder(ref, labels.get(ref)!, refs, cache);
    rows.push(...(await asUsageErrors(() => evaluateEncoder(enc, cache, settings, ctx))));
  }
  rows = pairRows(rows);
  const cells = writeResults(out, rows, title ?? `Evaluation on ${o.data} at ${o.size} px (${settings.protocols.join(', ')})`);
  for (const section of sections) addReportSection(out, section);
  await writePlots(out, rows, curves, cells);
  writeEvalBoard(out, rows);
  return { rows, out };
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'Evaluate encoders: linear probe, kNN or fine-tuning, at label fractions, over seeds, with paired differences to random init and ImageNet',
  schema: EvalOptions,
  async run(o) {
    const { out } = await runEval(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
