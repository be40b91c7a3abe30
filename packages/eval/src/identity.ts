import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DatasetCache } from '@cxr-ssl/data';
import { type EncoderSpec, type Weights, encoderSpec, initWeights, readSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { describeSchedule, heldOutHistory, MetricsLog, runWarnings, Schedule } from '@cxr-ssl/train';
import type { PretextInfo } from './evaluate.ts';
import { bnInputs, recalibrateBn } from './recalibrate-bn.ts';

/** A mistake in what was asked (a random-bn without BatchNorm, two encoders of one label, a split missing): the CLI reports it as a usage error. */
export class EvalInputError extends Error {}

/**
 * An encoder as an evaluation knows it. Its identity is `label` (a run folder's name, a built-in name
 * such as `random`, or one given with --label) and `weightsHash` (a content hash of its weights): rows,
 * tables, plots and the feature cache are keyed by them, so two runs of one method stay two encoders
 * and a retrained run never passes for the old one. `method` is a column, not the key.
 */
export interface EvalEncoder {
  label: string;
  /** the pretext method, or the built-in it is (random, random-bn, imagenet) */
  method: string;
  /** sha256 of the weights (weightsHash) */
  weightsHash: string;
  spec: EncoderSpec;
  onnx: Uint8Array;
  weights: () => Weights;
  /** where it came from, for the log: a run folder, "ImageNet weights", ... */
  source: string;
  pretext?: PretextInfo;
  /** the label of the encoder this one is a variant of (reproduce's `variants:`): compared with it (ΔD) */
  base?: string;
}

/** sha256 over every tensor (name, shape, float32 values) in name order: the same weights hash the same whatever file they came from. */
export function weightsHash(weights: Weights): string {
  const h = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name)!;
    h.update(`${name}\0${t.shape.join('x')}\0`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/** An EvalEncoder of weights in memory (its ONNX written from them unless given). */
export function encoderOf(o: { label: string; method: string; spec: EncoderSpec; weights: Weights; onnx?: Uint8Array; source: string; pretext?: PretextInfo; base?: string }): EvalEncoder {
  const { weights, onnx, ...rest } = o;
  return { ...rest, weightsHash: weightsHash(weights), onnx: onnx ?? encoderOnnx(o.spec, weights), weights: () => weights };
}

/** BatchNorm statistics settle long before this many images; it keeps an NIH-sized train split to minutes. */
const RECALIBRATION_IMAGES = 8192;

/**
 * Random init of `arch` at `seed` ('random'); with `cache`, its BatchNorm statistics recalibrated on
 * the cache's train images, at most RECALIBRATION_IMAGES of them evenly spaced ('random-bn', see
 * recalibrateBn). The same weights as 'random' otherwise.
 */
export async function randomEncoder(arch: string, seed: number, cache?: DatasetCache): Promise<EvalEncoder> {
  const spec = encoderSpec(arch);
  const weights = initWeights(spec, undefined, seed);
  if (!cache) return encoderOf({ label: 'random', method: 'random', spec, weights, source: `${arch}, random init, seed ${seed}` });
  if (bnInputs(spec).length === 0) throw new EvalInputError(`'random-bn' recalibrates BatchNorm statistics, and ${arch} has no BatchNorm layers: use 'random', or an encoder with BatchNorm (e.g. vgg-small-bn)`);
  const all = cache.indices('train');
  const step = Math.max(1, all.length / RECALIBRATION_IMAGES);
  const train = Array.from({ length: Math.min(all.length, RECALIBRATION_IMAGES) }, (_, i) => all[Math.floor(i * step)]);
  const source = `${arch}, random init, seed ${seed}, BatchNorm statistics of ${train.length} of the ${all.length} train images`;
  return encoderOf({ label: 'random-bn', method: 'random-bn', spec, weights: await recalibrateBn(spec, weights, cache, train), source });
}

interface RunConfig {
  task?: string;
  encoder?: string;
  init?: string;
  cache?: { name?: string; size?: number };
  optimizer?: Record<string, unknown>;
  schedule?: unknown;
}
const runConfig = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig;

/**
 * Where a pretext run came from: method, data, init, its last held-out pass (the method's top-1 with its
 * chance level, the collapse measure) with the warnings still standing there, and its optimiser settings.
 */
export function pretextInfo(dir: string): PretextInfo {
  const cfg = runConfig(dir);
  const metrics = join(dir, 'metrics.jsonl');
  const last = existsSync(metrics) ? heldOutHistory(dir).at(-1) : undefined;
  const warnings = existsSync(metrics) ? runWarnings(new MetricsLog(metrics).read()).active : [];
  const heldOut = { valAccuracy: last?.valAccuracy, valChance: last?.valChance, valSpread: last?.valSpread, valRank: last?.valRank, ...(warnings.length ? { warnings } : {}) };
  // the lr schedule is part of how the encoder was optimised: shown beside lr and momentum
  const schedule = Schedule.safeParse(cfg.schedule);
  // the optimiser by name first; LARS's trust coefficient only where it applies
  const { name = 'sgd', trustCoefficient, ...settings } = (cfg.optimizer ?? {}) as Record<string, unknown>;
  const optimizer = cfg.optimizer
    ? { optimizer: name, ...settings, ...(name === 'lars' ? { trustCoefficient } : {}), ...(schedule.success ? { schedule: describeSchedule(schedule.data) } : {}) }
    : undefined;
  return { run: dir, task: cfg.task ?? 'unknown', data: cfg.cache?.name ?? 'unknown', size: cfg.cache?.size, init: cfg.init, ...heldOut, optimizer };
}

/** The encoder architecture a run folder trained (older configs without one are vgg-small). */
export const runArchitecture = (dir: string): string => runConfig(dir).encoder ?? 'vgg-small';

/** A finished pretext run folder (config.json, encoder.onnx, encoder.safetensors) as an encoder, labelled by its folder's name unless told. */
export function runEncoder(dir: string, o: { label?: string; base?: string } = {}): EvalEncoder {
  const pretext = pretextInfo(dir);
  return encoderOf({
    label: o.label ?? basename(dir),
    method: pretext.task,
    spec: encoderSpec(runArchitecture(dir)),
    weights: readSafetensors(join(dir, 'encoder.safetensors')).weights,
    onnx: new Uint8Array(readFileSync(join(dir, 'encoder.onnx'))),
    source: dir,
    pretext,
    ...(o.base ? { base: o.base } : {}),
  });
}
