import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { DatasetCache } from '@cxr-ssl/data';
import { type EvalEncoder, type EvaluateContext, EvalInputError, type OptionFlag, encoderOf, randomEncoder, runArchitecture, runEncoder } from '@cxr-ssl/eval';
import { encoderSpec, readSafetensors } from '@cxr-ssl/models';
import type { z } from 'zod';
import { arg } from './command.ts';
import { UsageError } from './config-file.ts';
import { openPrepared } from './dataset.ts';
import { loadImagenetWeights } from './imagenet.ts';
import { DEFAULT_ENCODER } from './options.ts';
import { progress } from './progress.ts';

/**
 * What the CLI adds to the eval package's evaluation: which encoders the names on a command line mean
 * (run folders, built-ins), their labels, and usage errors (exit 2) for what was asked amiss.
 */

/** The built-in encoders a command line may name beside run folders. */
const BASELINES = ['random', 'random-bn'];
const BUILT_IN = [...BASELINES, 'imagenet'];

/** Runs `work`, reporting the eval package's input errors (a random-bn without BatchNorm, a missing split) as usage errors. */
export async function asUsageErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof EvalInputError ? new UsageError(err.message) : err;
  }
}

/** EvalSettings' flags as fields of a command schema (its flags and help come from them). */
export const flagFields = (flags: OptionFlag[]): Record<string, z.ZodType> => Object.fromEntries(flags.map((f) => [f.key, f.schema.meta(arg(f.value, f.help))]));

/** The bars and lines an evaluation shows (none when quiet). */
export function cliRuntime(quiet: boolean): Pick<EvaluateContext, 'log' | 'progress'> {
  return { log: quiet ? () => {} : (line) => process.stderr.write(`${line}\n`), progress: (label, total) => progress(label, total, quiet) };
}

/** The finished pretext run a name on the command line means (a path, or a name under runsDir), or a UsageError saying why it is none. */
function runFolder(ref: string, runsDir: string): string {
  const dir = existsSync(ref) ? resolve(ref) : resolve(runsDir, ref);
  const onnxPath = join(dir, 'encoder.onnx');
  if (!existsSync(onnxPath)) {
    throw new UsageError(`encoder '${ref}': ${onnxPath} not found. Train it first (cxr-ssl pretext ... --run ${ref}) or name a finished run folder.`);
  }
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UsageError(`encoder '${ref}': ${dir} has encoder.onnx but no config.json, so it is not a pretext run folder (cxr-ssl pretext writes both); name a run folder, or 'random'`);
  }
  return dir;
}

/**
 * The architecture of the random baselines: that of the runs they are compared with (a ΔAUC
 * between two architectures measures the architecture too). Checks every named run on the way. `arch` (--arch) is the default when
 * no run is named, and is refused where it disagrees with the runs; runs of several encoders are
 * refused, one baseline row having one architecture.
 */
export function baselineArch(refs: string[], o: { runsDir: string; arch?: string }): string {
  const baselines = refs.filter((r) => BASELINES.includes(r));
  const runs = refs.filter((r) => !BUILT_IN.includes(r)).map((ref) => ({ ref, arch: runArchitecture(runFolder(ref, o.runsDir)) }));
  const archs = [...new Set(runs.map((r) => r.arch))];
  const listed = () => runs.map((r) => `${r.ref}: ${r.arch}`).join(', ');
  if (baselines.length > 0 && o.arch && archs.some((a) => a !== o.arch)) {
    throw new UsageError(`--arch ${o.arch}: ${baselines.join(' and ')} would be a ${o.arch} beside runs of another encoder (${listed()}), and a baseline has the architecture of the runs it is compared with: drop --arch (it follows the runs), or evaluate runs of ${o.arch}`);
  }
  if (baselines.length > 0 && archs.length > 1) {
    const first = runs.filter((r) => r.arch === archs[0]).map((r) => r.ref);
    throw new UsageError(`the runs have different encoders (${listed()}), and a ${baselines.join(' or ')} baseline has one architecture: evaluate each encoder's runs with their own baseline, in a call of their own (e.g. --encoders ${[...first, ...baselines].join(',')}, whose baseline is a ${archs[0]}; --arch names it explicitly)`);
  }
  return o.arch ?? archs[0] ?? DEFAULT_ENCODER;
}

/**
 * The label of each named encoder: `--label name=ref` where given, else a run folder's name or the
 * built-in's. Two encoders of one label would be one row, so that is refused, naming --label.
 */
export function encoderLabels(refs: string[], o: { runsDir: string; label?: string[] }): Map<string, string> {
  const given = new Map<string, string>();
  for (const pair of o.label ?? []) {
    const m = pair.match(/^([\w.+-]+)=(.+)$/);
    if (!m) throw new UsageError(`--label ${pair}: expected name=encoder (e.g. kermany-a=runs/run-a), the name of letters, digits, . _ + -`);
    if (!refs.includes(m[2])) throw new UsageError(`--label ${pair}: '${m[2]}' is not one of --encoders (${refs.join(', ')}); name it as --encoders does`);
    if (given.has(m[2])) throw new UsageError(`--label: '${m[2]}' is labelled twice`);
    given.set(m[2], m[1]);
  }
  const labels = new Map(refs.map((ref) => [ref, given.get(ref) ?? (BUILT_IN.includes(ref) ? ref : basename(runFolder(ref, o.runsDir)))]));
  const seen = new Map<string, string>();
  for (const [ref, label] of labels) {
    const other = seen.get(label);
    if (other !== undefined) {
      throw new UsageError(
        `--encoders: '${other}' and '${ref}' would both be labelled '${label}', and a label is one encoder's rows: name them apart with --label (e.g. --label ${label}-a=${other},${label}-b=${ref})`,
      );
    }
    seen.set(label, ref);
  }
  return labels;
}

export interface EncoderRefOptions {
  runsDir: string;
  /** architecture of 'random' */
  arch: string;
  seed: number;
  imagenet?: { encoder: string; weights: string; outDir: string };
}

/** 'random', 'random-bn' (recalibrated on `cache`), 'imagenet', or a pretext run folder (a path, or a name under runsDir), under `label`. */
export async function resolveEncoder(ref: string, label: string, o: EncoderRefOptions, cache: DatasetCache): Promise<EvalEncoder> {
  if (BASELINES.includes(ref)) return { ...(await asUsageErrors(() => randomEncoder(o.arch, o.seed, ref === 'random-bn' ? cache : undefined))), label };
  if (ref === 'imagenet') {
    if (!o.imagenet) throw new UsageError("encoder 'imagenet' needs --imagenet-weights <file or tfjs folder> (and --imagenet-encoder, default mobilenetv2-0.35)");
    const { safetensors, onnx } = loadImagenetWeights(o.imagenet.encoder, o.imagenet.weights, o.imagenet.outDir);
    const spec = encoderSpec(o.imagenet.encoder);
    return encoderOf({ label, method: 'imagenet', spec, weights: readSafetensors(safetensors).weights, onnx, source: `${o.imagenet.encoder} ImageNet weights (${o.imagenet.weights})` });
  }
  return runEncoder(runFolder(ref, o.runsDir), { label });
}

/** Opens the prepared data set (the bundled fixture is prepared on first use) or says how to make it. */
export async function openEvalCache(cacheDir: string, data: string, size: number, quiet = false): Promise<DatasetCache> {
  try {
    return await openPrepared({ cacheDir, data, size, quiet });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}
