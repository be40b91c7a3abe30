import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { evalTaskOptions, type SampleShape } from '@cxr-ssl/data';
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
  /** views per sample and their side at an image size (the sampler's shape) */
  shape(size: number): SampleShape;
  loss: LossSpec;
  head(encoder: EncoderSpec): HeadSpec;
  /** the scalars of update `step` of `totalSteps`: the lr given, and the method's own */
  scalarsAt(step: number, totalSteps: number, lr: number): StepScalars;
  caution(run: RunSize): string | undefined;
  /** what the trained and the moving-average networks encode per sample at `size` px (the memory estimate's input) */
  encodes(size: number): Encoded;
  /** Method.candidates with the run's options */
  candidates(batch: number, heldOut: boolean): number | undefined;
  /** Method.collapseHint with the run's options */
  collapseHint(): string;
}

function methodOf(name: string): Method {
  const method = METHODS[name];
  if (!method) throw new Error(`unknown method '${name}': choose one of ${Object.keys(METHODS).join(', ')}`);
  return method;
}

/** The one place a method's raw options are parsed (their schema fills in every default). */
function parseOptions(method: Method, raw: unknown): Record<string, unknown> {
  return method.options.parse(raw ?? {}) as Record<string, unknown>;
}

/**
 * Parses a method's raw options once into a MethodRun. `derive` fixes seeded parts of the sampler's
 * options (a sampler's `derive`, e.g. jigsaw's permutation set from the run's seed); the loop saves
 * them as options.json so resume, evaluation and other engines see exactly the same classes.
 */
export function parseMethod(name: string, raw: unknown, derive?: (samplerOptions: unknown) => unknown): MethodRun {
  const method = methodOf(name);
  return methodRun(name, method, parseOptions(method, raw), derive);
}

/** A MethodRun from options already parsed by the method's schema. */
function methodRun(name: string, method: Method, options: Record<string, unknown>, derive?: (samplerOptions: unknown) => unknown): MethodRun {
  const { sampler } = method;
  const derived = (derive ? derive(method.samplerOptions(options)) : method.samplerOptions(options)) as Record<string, unknown>;
  // resolved when first drawn with: jigsaw's set of a new seed takes seconds, and a usage check needs only the shape
  let resolved: Record<string, unknown> | undefined;
  const samplerOptions = () => (resolved ??= (sampler.resolve ? sampler.resolve(derived) : derived) as Record<string, unknown>);
  const effective = { ...options, ...derived }; // a pretext task's options are its sampler's
  const scalars = method.scalars?.(effective) ?? {};
  return {
    name,
    method,
    options,
    get samplerOptions() {
      return samplerOptions();
    },
    get heldOutSamplerOptions() {
      return sampler.augmentMakesViews ? samplerOptions() : (evalTaskOptions(samplerOptions()) as Record<string, unknown>);
    },
    shape: (size) => sampler.shape(size, derived),
    loss: method.loss(effective),
    head: (encoder) => method.head(encoder, effective),
    scalarsAt: (step, total, lr) => ({ ...Object.fromEntries(Object.entries(scalars).map(([k, f]) => [k, f(step, total)])), lr }),
    caution: (run) => method.caution?.(effective, run),
    encodes: (size) => {
      const shape = sampler.shape(size, derived);
      return method.encodes?.(shape, effective) ?? { trained: shape };
    },
    candidates: (batch, heldOut) => method.candidates?.(effective, batch, heldOut),
    collapseHint: () => method.collapseHint?.(effective) ?? 'a learning rate too high (--lr) or a warm-up too short (--warmup-epochs)',
  };
}

/**
 * The method of a run folder: its sampler's seeded parts fixed once and kept in options.json. `parsed`:
 * the run's method as its caller already parsed it (cfg.taskOptions are then not parsed again).
 */
export function runMethod(cfg: PretextConfig, runDir: string, parsed?: MethodRun): MethodRun {
  const method = methodOf(cfg.task);
  const options = parsed?.options ?? parseOptions(method, cfg.taskOptions);
  const derive = method.sampler.derive;
  if (!derive) return parsed ?? methodRun(cfg.task, method, options);
  const path = join(runDir, 'options.json');
  return methodRun(cfg.task, method, options, (s) => {
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

/**
 * A raw run configuration with the method's own learning rate (Method.lr) where it names none; parsing
 * fills the rest from PretextConfig's defaults. config.json then records the lr the run used.
 */
export function withMethodLr(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const r = raw as { task?: unknown; optimizer?: Record<string, unknown> };
  const lr = typeof r.task === 'string' ? METHODS[r.task]?.lr : undefined;
  if (lr === undefined || r.optimizer?.lr !== undefined) return raw;
  return { ...r, optimizer: { ...r.optimizer, lr } };
}

/** The loss a method's raw options ask the engines for (tools, tests: a boundary of their own). */
export function methodLoss(method: string, options: unknown): LossSpec {
  return parseMethod(method, options).loss;
}

/** The method's head for an encoder, from raw options (tools, tests). */
export function methodHead(method: string, encoder: EncoderSpec, options: unknown): HeadSpec {
  return parseMethod(method, options).head(encoder);
}

/** Where a method is to run, for the checks made before any work: image size, and engine and encoder where known. */
export interface MethodAt {
  size: number;
  engine?: string;
  encoder?: string;
}

/**
 * A method's raw options parsed (once) and checked before any work starts: the MethodRun, or what is
 * wrong (unknown method, options its schema rejects, and runProblem's checks).
 */
export function checkMethod(name: string, options: unknown, at: MethodAt): { run: MethodRun; problem?: undefined } | { problem: string } {
  const method = METHODS[name];
  if (!method) return { problem: `unknown method '${name}': choose one of ${Object.keys(METHODS).join(', ')}` };
  const parsed = method.options.safeParse(options ?? {});
  if (!parsed.success) {
    return { problem: `options of ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}` };
  }
  let run: MethodRun;
  try {
    run = methodRun(name, method, parsed.data as Record<string, unknown>);
  } catch (e) {
    return { problem: `${name}: ${(e as Error).message}` };
  }
  const problem = runProblem(run, at);
  return problem ? { problem } : { run };
}

/** checkMethod's answer as a message, or undefined (demo's and samples' checks of a whole plan). */
export function methodProblem(name: string, options: unknown, size: number, engine?: string, encoder?: string): string | undefined {
  return checkMethod(name, options, { size, engine, encoder }).problem;
}

/**
 * What is wrong with a parsed method at an image size on an engine and encoder (a patch larger than
 * its grid cell, views smaller than the encoder can take, an engine without its loss), or undefined.
 */
export function runProblem(run: MethodRun, { size, engine, encoder }: MethodAt): string | undefined {
  const { method, name } = run;
  let smallest: number;
  try {
    const shape = run.shape(size);
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
