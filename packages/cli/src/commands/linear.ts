import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetCache } from '@cxr-ssl/data';
import { type ResultRow, cachedFeatures, extractFeatures, linearEvaluation, openEncoderSession } from '@cxr-ssl/eval';
import { ENCODERS, encoderSpec, initWeights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { openPrepared } from '../dataset.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_RUNS_DIR, flag, int, strList } from '../options.ts';
import { progress } from '../progress.ts';
import { writeResults } from '../report.ts';

export const LinearOptions = z
  .object({
    /** default: every finished pretext run under --runs-dir, and random */
    encoders: strList().optional(),
    data: z.string().default('kermany-mini'),
    size: int().min(16).default(128),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR),
    runsDir: z.string().default(DEFAULT_RUNS_DIR),
    /** architecture of the `random` encoder */
    arch: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('vgg-small'),
    epochs: int().positive().default(10),
    hidden: int().positive().default(256),
    seed: int().nonnegative().default(0),
    out: z.string().optional(),
    provider: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    batchSize: int().positive().default(64),
    quiet: flag().default(false),
  })
  .strict();
export type LinearOptions = z.infer<typeof LinearOptions>;

export interface ResolvedEncoder {
  init: string;
  onnx: Uint8Array;
  source: string;
}

/** 'random', or a pretext run folder (a path, or a name under --runs-dir). */
function resolveEncoder(ref: string, o: LinearOptions): ResolvedEncoder {
  if (ref === 'random') {
    const spec = encoderSpec(o.arch);
    return { init: 'random', onnx: encoderOnnx(spec, initWeights(spec, undefined, o.seed)), source: `${o.arch}, random init, seed ${o.seed}` };
  }
  const dir = existsSync(ref) ? resolve(ref) : resolve(o.runsDir, ref);
  const onnxPath = join(dir, 'encoder.onnx');
  if (!existsSync(onnxPath)) {
    throw new UsageError(`encoder '${ref}': ${onnxPath} not found. Train it first (cxr-ssl pretext ... --run ${ref}) or name a finished run folder.`);
  }
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new UsageError(`encoder '${ref}': ${dir} has encoder.onnx but no config.json, so it is not a pretext run folder (cxr-ssl pretext writes both); name a run folder, or 'random'`);
  }
  const cfg = RunTask.safeParse(JSON.parse(readFileSync(configPath, 'utf8')));
  if (!cfg.success) throw new UsageError(`encoder '${ref}': ${configPath} does not name a pretext task: is it a pretext run folder?`);
  return { init: cfg.data.task, onnx: new Uint8Array(readFileSync(onnxPath)), source: dir };
}

const RunTask = z.object({ task: z.string() });

/** The default encoders: every finished pretext run (encoder.onnx + config.json) under runsDir, then random. */
export function finishedRuns(runsDir: string): string[] {
  const dir = resolve(runsDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'encoder.onnx')) && existsSync(join(dir, d.name, 'config.json')))
    .map((d) => join(dir, d.name))
    .sort();
}

const said = new Set<string>();
/** The provider fallback note is worth reading once, not once per encoder. */
function sayOnce(note: string | undefined, quiet: boolean): void {
  if (!note || quiet || said.has(note)) return;
  said.add(note);
  process.stderr.write(`${note}\n`);
}

/** One encoder's linear-evaluation row: frozen ONNX features of every split -> 2-layer head. */
export async function linearRow(
  enc: ResolvedEncoder,
  cache: DatasetCache,
  o: Pick<LinearOptions, 'size' | 'epochs' | 'hidden' | 'seed' | 'provider' | 'batchSize' | 'quiet'>,
  /** folder whose features/ keeps extracted features, reused while encoder and data are unchanged */
  featuresDir: string,
): Promise<ResultRow> {
  const splits = { train: cache.indices('train'), val: cache.indices('val'), test: cache.indices('test') };
  if (splits.test.length === 0) throw new UsageError(`${cache.manifest.name ?? 'the data set'} at ${o.size} px has no test split: prepare a data set with one`);
  const labelsOf = (idx: number[]) => Int32Array.from(idx, (i) => cache.manifest.entries[i].label);
  const opened = await openEncoderSession(enc.onnx, { provider: o.provider });
  const { session, provider } = opened;
  sayOnce(opened.note, o.quiet);
  const total = splits.train.length + splits.val.length + splits.test.length;
  const bar = progress(`features ${enc.init}`, total, o.quiet);
  let base = 0;
  const features: Record<string, Float32Array> = {};
  let dim = 0;
  for (const [split, idx] of Object.entries(splits)) {
    const r = await cachedFeatures({
      runDir: featuresDir,
      key: `${enc.init}-${o.size}-${split}`,
      onnx: enc.onnx,
      indices: idx,
      dataHash: cache.manifest.planHash,
      compute: () => extractFeatures({ session, images: cache, indices: idx, batchSize: o.batchSize, onProgress: (d: number) => bar.update(base + d) }),
    });
    features[split] = r.features;
    dim = r.dim;
    base += idx.length;
  }
  bar.stop();
  await session.release?.();
  const row = linearEvaluation({
    init: enc.init,
    size: o.size,
    dim,
    features: {
      train: { features: features.train, labels: labelsOf(splits.train) },
      val: splits.val.length > 0 ? { features: features.val, labels: labelsOf(splits.val) } : undefined,
      test: { features: features.test, labels: labelsOf(splits.test) },
    },
    options: { epochs: o.epochs, hidden: o.hidden, seed: o.seed },
  });
  if (!o.quiet) process.stderr.write(`${enc.init} (${enc.source}, ${provider}): accuracy ${(100 * row.accuracy).toFixed(1)}%, AUC ${row.auc.toFixed(3)}, majority ${(100 * row.majority_accuracy).toFixed(1)}%\n`);
  return row;
}

/** The `linear` command: one row per named encoder, written as results.json / results.md. */
export async function evaluateEncoders(o: LinearOptions): Promise<{ rows: ResultRow[]; out: string }> {
  const out = resolve(o.out ?? join(o.runsDir, `linear-${o.data}-${o.size}`));
  mkdirSync(out, { recursive: true });
  const cache = await openPrepared(o);
  let encoders = o.encoders;
  if (!encoders) {
    const runs = finishedRuns(o.runsDir);
    const found = runs.length ? `the ${runs.length} finished pretext run(s) under ${resolve(o.runsDir)} and random init` : `random init only (no finished pretext run under ${resolve(o.runsDir)})`;
    if (!o.quiet) process.stderr.write(`no --encoders: evaluating ${found}\n`);
    encoders = [...runs, 'random'];
  }
  const rows: ResultRow[] = [];
  for (const ref of encoders) rows.push(await linearRow(resolveEncoder(ref, o), cache, o, out));
  writeResults(out, rows, `Linear evaluation on ${o.data} at ${o.size} px`);
  return { rows, out };
}

export const linear = defineCommand({
  name: 'linear',
  summary: 'Linear evaluation (frozen encoder -> 2 dense layers, normal vs abnormal) of pretext runs and baselines',
  flags: [
    ['--encoders <list>', "comma-separated: pretext run folders (or names under --runs-dir) and/or 'random' (default: every finished run under --runs-dir, and random)"],
    ['--data <name>', 'prepared data set name (default kermany-mini)'],
    ['--size <px>', 'image size (default 128)'],
    ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
    ['--runs-dir <dir>', `run folders (default ${DEFAULT_RUNS_DIR})`],
    ['--arch <name>', 'architecture of the random-init encoder (default vgg-small)'],
    ['--epochs <n>', 'epochs of the linear head (default 10, as in the study)'],
    ['--hidden <n>', 'hidden units of the 2-layer head (default 256)'],
    ['--seed <n>', 'seed (default 0)'],
    ['--out <dir>', 'where results.json / results.md go (default <runs-dir>/linear-<data>-<size>)'],
    ['--provider <name>', 'onnxruntime provider: auto | cpu | cuda'],
    ['--batch-size <n>', 'feature-extraction batch (default 64)'],
    ['--quiet', 'no progress output'],
  ],
  schema: LinearOptions,
  async run(o) {
    const { out } = await evaluateEncoders(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
