import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { evalTaskOptions } from '@cxr-ssl/data';
import { type EncoderSpec, encoderSpec, type HeadSpec, minimumViewSize } from '@cxr-ssl/models';
import type { PretextConfig } from './config.ts';
import type { LossSpec, StepScalars } from './engine.ts';
import { ENGINES } from './engines/index.ts';
import { METHODS } from './methods/index.ts';
import type { Encoded, Method, RunSize } from './methods/method.ts';

/**
 * A method with its options parsed, once, at the boundary (runPretext, a tool's command line):
 * what the rest of a run receives instead of raw options.
 */
export interface MethodRun {
  name: string;
  method: Method;
  /** every option of the method, defaults filled in: what config.json records */
  options: Record<string, unknown>;
  /** the sampler's part, seeded parts fixed and resolved (jigsaw's permutation set): what batches are drawn with */
  samplerOptions: Record<string, unknown>;
  /** the same for held-out pretext accuracy: random augmentations off unless they make the views */
  heldOutSamplerOptions: Record<string, unknown>;
  loss: LossSpec;
  head(encoder: EncoderSpec): HeadSpec;
  /** the scalars of update `step` of `totalSteps`: the lr given, and the method's own */
  scalarsAt(step: number, totalSteps: number, lr: number): StepScalars;
  caution(run: RunSize): string | undefined;
  /** what the trained and the moving-average networks encode per sample at `size` px (the memory estimate's input) */
  encodes(size: number): Encoded;
}

function methodOf(name: string): Method {
  const method = METHODS[name];
  if (!method) throw new Error(`unknown method '${name}': choose one of ${Object.keys(METHODS).join(', ')}`);
  return method;
}

/**
 * Parses a method's raw options once into a MethodRun. `derive` fixes seeded parts of the sampler's
 * options (a sampler's `derive`, e.g. jigsaw's permutation set from the run's seed); the loop saves
 * them as options.json so resume, evaluation and other engines see exactly the same classes.
 */
export function parseMethod(name: string, raw: unknown, derive?: (samplerOptions: unknown) => unknown): MethodRun {
  const method = methodOf(name);
  const options = method.options.parse(raw ?? {}) as Record<string, unknown>;
  const { sampler } = method;
  const derived = (derive ? derive(method.samplerOptions(options)) : method.samplerOptions(options)) as Record<string, unknown>;
  const samplerOptions = (sampler.resolve ? sampler.resolve(derived) : derived) as Record<string, unknown>;
  const effective = { ...options, ...derived }; // a pretext task's options are its sampler's
  const scalars = method.scalars?.(effective) ?? {};
  return {
    name,
    method,
    options,
    samplerOptions,
    heldOutSamplerOptions: sampler.augmentMakesViews ? samplerOptions : (evalTaskOptions(samplerOptions) as Record<string, unknown>),
    loss: method.loss(effective),
    head: (encoder) => method.head(encoder, effective),
    scalarsAt: (step, total, lr) => ({ ...Object.fromEntries(Object.entries(scalars).map(([k, f]) => [k, f(step, total)])), lr }),
    caution: (run) => method.caution?.(effective, run),
    encodes: (size) => {
      const shape = sampler.shape(size, samplerOptions);
      return method.encodes?.(shape, effective) ?? { trained: shape };
    },
  };
}

/** The method of a run folder: its sampler's seeded parts fixed once and kept in options.json. */
export function runMethod(cfg: PretextConfig, runDir: string): MethodRun {
  const { sampler } = methodOf(cfg.task);
  const derive = sampler.derive;
  if (!derive) return parseMethod(cfg.task, cfg.taskOptions);
  const path = join(runDir, 'options.json');
  return parseMethod(cfg.task, cfg.taskOptions, (s) => {
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
    const derived = derive(s, cfg.seed);
    writeFileAtomic(path, JSON.stringify(derived));
    return derived;
  });
}

/** The sampler options of a run folder, as batches are drawn with them (tools, evaluation tests). */
export function runOptions(cfg: PretextConfig, runDir: string): Record<string, unknown> {
  return runMethod(cfg, runDir).samplerOptions;
}

/** The config with its method options completed by the method's schema (defaults filled in), so config.json records what the run does. */
export function withTaskDefaults(cfg: PretextConfig): PretextConfig {
  return { ...cfg, taskOptions: parseMethod(cfg.task, cfg.taskOptions).options };
}

/** The loss a method's raw options ask the engines for (tools, tests: a boundary of their own). */
export function methodLoss(method: string, options: unknown): LossSpec {
  return parseMethod(method, options).loss;
}

/** The method's head for an encoder, from raw options (tools, tests). */
export function methodHead(method: string, encoder: EncoderSpec, options: unknown): HeadSpec {
  return parseMethod(method, options).head(encoder);
}

/**
 * What is wrong with a method and its options at an image size on an engine and encoder (unknown
 * method, options its schema rejects, a patch larger than its grid cell, views smaller than the
 * encoder can take, an engine without its loss), or undefined. Checked before any work starts.
 */
export function methodProblem(name: string, options: unknown, size: number, engine?: string, encoder?: string): string | undefined {
  const method = METHODS[name];
  if (!method) return `unknown method '${name}': choose one of ${Object.keys(METHODS).join(', ')}`;
  const parsed = method.options.safeParse(options ?? {});
  if (!parsed.success) {
    return `options of ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`;
  }
  let smallest: number;
  try {
    const shape = method.sampler.shape(size, method.samplerOptions(parsed.data));
    smallest = Math.min(shape.patch, shape.local?.patch ?? shape.patch);
  } catch (e) {
    return `${name} at ${size} px: ${(e as Error).message}`;
  }
  const least = encoder ? minimumViewSize(encoderSpec(encoder)) : 0;
  if (smallest < least) return `${name} at ${size} px gives ${smallest} px views, and ${encoder} needs at least ${least} px (its pooling leaves nothing of a smaller one): use a larger --size or another encoder`;
  const { engines } = method;
  // an engine name of neither kind (a test double) has no loss list to check against
  if (engine && engine in ENGINES && !engines.includes(engine as never)) return `${name} trains on the ${engines.join(' or ')} engine, not ${engine}: pass --engine ${engines[0]}`;
  return undefined;
}
