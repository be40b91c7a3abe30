import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ResultRow, pairRows } from '@cxr-ssl/eval';
import { ENCODERS } from '@cxr-ssl/models';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { EvalSettings, PROTOCOLS, baselineArch, evaluateEncoder, openEvalCache, resolveEncoder } from '../evaluation.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_ENCODER, DEFAULT_RUNS_DIR, flag, int, num, pathName, strList } from '../options.ts';
import { REPORT_FILES, writePlots } from '../plots.ts';
import { writeResults } from '../report.ts';

/** Label fractions: each in (0, 1], none twice (a repeat would make duplicate rows). */
const fractionList = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : typeof v === 'number' ? [v] : v),
    z
      .array(z.coerce.number().gt(0, 'each fraction must be in (0, 1]: above 0').max(1, 'each fraction must be in (0, 1]: at most 1 (all labels)'))
      .min(1)
      .refine((f) => new Set(f).size === f.length, { message: 'each fraction once (a repeat would evaluate the same cell twice)' }),
  );

export const EvalOptions = z
  .object({
    encoders: strList(),
    data: pathName().default('kermany-mini'),
    size: int().min(16).default(128),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR),
    runsDir: z.string().default(DEFAULT_RUNS_DIR),
    /** architecture of 'random' / 'random-bn'; unset: the runs' encoder (baselineArch), else DEFAULT_ENCODER */
    arch: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).optional(),
    imagenetEncoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('mobilenetv2-0.35'),
    imagenetWeights: z.string().optional(),
    protocol: z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), z.array(z.enum(PROTOCOLS)).min(1)).default(['linear']),
    fractions: fractionList().default([1]),
    seeds: int().positive().default(1),
    seed: int().nonnegative().default(0),
    epochs: int().positive().default(10),
    hidden: int().positive().default(256),
    k: int().positive().default(20),
    temperature: num().positive().default(0.07),
    ftEpochs: int().positive().default(10),
    ftLr: num().positive().default(0.01),
    ftBatchSize: int().positive().default(32),
    engine: z.enum(['auto', 'torch', 'tfjs']).default('auto'),
    python: z.string().optional(),
    out: z.string().optional(),
    /** replace the results and plots of an earlier evaluation in --out */
    overwrite: flag().default(false),
    provider: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    features: z.enum(['auto', 'ort', 'torch']).default('auto'),
    batchSize: int().positive().default(64),
    quiet: flag().default(false),
  })
  .strict();
export type EvalOptions = z.infer<typeof EvalOptions>;

export function settingsOf(o: EvalOptions): EvalSettings {
  return EvalSettings.parse({
    protocols: o.protocol,
    fractions: o.fractions,
    seeds: o.seeds,
    linear: { epochs: o.epochs, hidden: o.hidden },
    knn: { k: o.k, temperature: o.temperature },
    finetune: { epochs: o.ftEpochs, lr: o.ftLr, batchSize: o.ftBatchSize, hidden: o.hidden, engine: o.engine, python: o.python },
  });
}

/** Every named encoder under every protocol, label fraction and seed; results.json/.md and plots in `out`. */
export async function runEval(o: EvalOptions, title?: string): Promise<{ rows: ResultRow[]; out: string }> {
  const settings = settingsOf(o);
  const out = resolve(o.out ?? join(o.runsDir, `eval-${o.data}-${o.size}`));
  const arch = baselineArch(o.encoders, o); // checks the named runs first: a mistake in them is the likelier one
  // refused before any work: an earlier evaluation's results are replaced only when asked
  const earlier = REPORT_FILES.filter((f) => existsSync(join(out, f)));
  if (earlier.length > 0 && !o.overwrite) throw new UsageError(`${out} already holds ${earlier.join(', ')} of an earlier evaluation: pass --overwrite to replace them (nothing else in the folder is touched), or choose another --out`);
  mkdirSync(out, { recursive: true });
  const cache = await openEvalCache(o.cacheDir, o.data, o.size, o.quiet);
  const refs = { runsDir: o.runsDir, arch, seed: o.seed, imagenet: o.imagenetWeights ? { encoder: o.imagenetEncoder, weights: resolve(o.imagenetWeights), outDir: join(out, 'imagenet') } : undefined };
  const ctx = { outDir: out, seed: o.seed, provider: o.provider, features: o.features, python: o.python, batchSize: o.batchSize, quiet: o.quiet };
  let rows: ResultRow[] = [];
  for (const ref of o.encoders) rows.push(...(await evaluateEncoder(await resolveEncoder(ref, refs, cache), cache, settings, ctx)));
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
    ['--data <name>', 'prepared data set to evaluate on (may differ from the pretext data: transfer)'],
    ['--size <px>', 'image size (default 128)'],
    ['--protocol <list>', 'linear | knn | finetune, comma-separated (default linear)'],
    ['--fractions <list>', 'label fractions of the train split, e.g. 0.01,0.1,1 (default 1)'],
    ['--seeds <n>', 'seeds per cell: heads and fraction draws (default 1)'],
    ['--seed <n>', 'first seed (default 0)'],
    ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
    ['--runs-dir <dir>', `run folders (default ${DEFAULT_RUNS_DIR})`],
    ['--arch <name>', `architecture of 'random' and 'random-bn' (default: the encoder of the runs evaluated, else ${DEFAULT_ENCODER})`],
    ['--imagenet-weights <path>', "ImageNet weights for 'imagenet' (safetensors or a TensorFlow.js layers folder)"],
    ['--imagenet-encoder <name>', 'architecture of those weights (default mobilenetv2-0.35)'],
    ['--epochs <n>', 'linear head epochs (default 10)'],
    ['--hidden <n>', 'hidden units of the head (default 256)'],
    ['--k <n>', 'kNN neighbours (default 20)'],
    ['--temperature <t>', 'kNN vote temperature (default 0.07)'],
    ['--ft-epochs <n>', 'fine-tuning epochs (default 10)'],
    ['--ft-lr <x>', 'fine-tuning learning rate, SGD momentum 0.9, decay 0.9 per epoch (default 0.01)'],
    ['--ft-batch-size <n>', 'fine-tuning batch (default 32)'],
    ['--engine <name>', 'fine-tuning engine: auto | torch | tfjs'],
    ['--python <path>', 'Python with torch for the torch engine'],
    ['--out <dir>', 'where results go (default <runs-dir>/eval-<data>-<size>); an earlier evaluation there is refused unless --overwrite'],
    ['--overwrite', "replace an earlier evaluation's results.* and plots in --out"],
    ['--provider <name>', 'onnxruntime provider: auto | cpu | cuda'],
    ['--features <how>', 'feature extraction: auto (torch when its Python sees CUDA, else onnxruntime) | ort | torch'],
    ['--batch-size <n>', 'feature-extraction batch (default 64)'],
    ['--quiet', 'no progress output'],
  ],
  schema: EvalOptions,
  async run(o) {
    const { out } = await runEval(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
