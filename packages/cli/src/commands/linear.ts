import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResultRow } from '@cxr-ssl/eval';
import { ENCODERS } from '@cxr-ssl/models';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_ENCODER, DEFAULT_RUNS_DIR, flag, int, pathName, strList } from '../options.ts';
import { EvalOptions, runEval } from './eval.ts';

/** The study's protocol: `eval --protocol linear` on all labels, one seed. */
export const LinearOptions = z
  .object({
    /** default: every finished pretext run under --runs-dir, and random */
    encoders: strList().optional(),
    data: pathName().default('kermany-mini'),
    size: int().min(16).default(128),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR),
    runsDir: z.string().default(DEFAULT_RUNS_DIR),
    /** architecture of the `random` encoder; unset: the runs' encoder (baselineArch) */
    arch: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).optional(),
    epochs: int().positive().default(10),
    hidden: int().positive().default(256),
    seed: int().nonnegative().default(0),
    out: z.string().optional(),
    overwrite: flag().default(false),
    provider: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    features: z.enum(['auto', 'ort', 'torch']).default('auto'),
    batchSize: int().positive().default(64),
    quiet: flag().default(false),
  })
  .strict();
export type LinearOptions = z.infer<typeof LinearOptions>;

/** The default encoders: every finished pretext run (encoder.onnx + config.json, not an export folder) under runsDir. */
export function finishedRuns(runsDir: string): string[] {
  const dir = resolve(runsDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    // an export folder (model.safetensors, cxr-ssl export --out under the runs) is not a run
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'encoder.onnx')) && existsSync(join(dir, d.name, 'config.json')) && !existsSync(join(dir, d.name, 'model.safetensors')))
    .map((d) => join(dir, d.name))
    .sort();
}

/** The `linear` command: one row per named encoder, written as results.json / results.md. */
export async function evaluateEncoders(o: LinearOptions): Promise<{ rows: ResultRow[]; out: string }> {
  let encoders = o.encoders;
  if (!encoders) {
    const runs = finishedRuns(o.runsDir);
    const found = runs.length ? `the ${runs.length} finished pretext run(s) under ${resolve(o.runsDir)} and random init` : `random init only (no finished pretext run under ${resolve(o.runsDir)})`;
    if (!o.quiet) process.stderr.write(`no --encoders: evaluating ${found}\n`);
    encoders = [...runs, 'random'];
  }
  const opts = EvalOptions.parse({ ...o, encoders, protocol: ['linear'], out: o.out ?? join(o.runsDir, `linear-${o.data}-${o.size}`) });
  return runEval(opts, `Linear evaluation on ${o.data} at ${o.size} px`);
}

export const linear = defineCommand({
  name: 'linear',
  summary: 'Linear evaluation (frozen encoder -> 2 dense layers, normal vs abnormal) of pretext runs and baselines',
  flags: [
    ['--encoders <list>', "comma-separated: pretext run folders (or names under --runs-dir) and/or 'random', 'random-bn' (default: every finished run under --runs-dir, and random)"],
    ['--data <name>', 'prepared data set name (default kermany-mini)'],
    ['--size <px>', 'image size (default 128)'],
    ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
    ['--runs-dir <dir>', `run folders (default ${DEFAULT_RUNS_DIR})`],
    ['--arch <name>', `architecture of the random-init encoder (default: the encoder of the runs evaluated, else ${DEFAULT_ENCODER})`],
    ['--epochs <n>', 'epochs of the linear head (default 10, as in the study)'],
    ['--hidden <n>', 'hidden units of the 2-layer head (default 256)'],
    ['--seed <n>', 'seed (default 0)'],
    ['--out <dir>', 'where results.json / results.md go (default <runs-dir>/linear-<data>-<size>); an earlier evaluation there is refused unless --overwrite'],
    ['--overwrite', "replace an earlier evaluation's results.* and plots in --out"],
    ['--provider <name>', 'onnxruntime provider: auto | cpu | cuda'],
    ['--features <how>', 'feature extraction: auto (torch when its Python sees CUDA, else onnxruntime) | ort | torch'],
    ['--batch-size <n>', 'feature-extraction batch (default 64)'],
    ['--quiet', 'no progress output'],
  ],
  schema: LinearOptions,
  async run(o) {
    const { out } = await evaluateEncoders(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
