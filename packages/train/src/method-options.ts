import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { SAMPLERS, getSampler } from '@cxr-ssl/data';
import { type EncoderSpec, encoderSpec, type HeadSpec, headSpec, minimumViewSize } from '@cxr-ssl/models';
import type { PretextConfig } from './config.ts';
import type { LossSpec } from './engine.ts';
import { METHODS } from './methods/index.ts';

/**
 * A method's options for one run, as its sampler needs them: with seeded parts fixed from the run's
 * seed (a sampler's `derive`) and saved in the run folder (options.json), so evaluation, resume and
 * other engines see exactly the same classes.
 */
export function runOptions(cfg: PretextConfig, runDir: string): Record<string, unknown> {
  const sampler = getSampler(cfg.task);
  if (!sampler.derive) return cfg.taskOptions;
  const path = join(runDir, 'options.json');
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const derived = sampler.derive(sampler.options.parse(cfg.taskOptions), cfg.seed) as Record<string, unknown>;
  writeFileAtomic(path, JSON.stringify(derived));
  return derived;
}

/**
 * The config with its method options completed by the method's schema (defaults filled in, e.g.
 * the augmentations), so config.json records what the run really does. Call after methodProblem.
 */
export function withTaskDefaults(cfg: PretextConfig): PretextConfig {
  return { ...cfg, taskOptions: getSampler(cfg.task).options.parse(cfg.taskOptions) as Record<string, unknown> };
}

/** The loss a method's options ask the engines for. */
export function methodLoss(method: string, options: Record<string, unknown>): LossSpec {
  return METHODS[method].loss(getSampler(method).options.parse(options));
}

/** The method's head for an encoder (a classifier's classes counted from the options). */
export function methodHead(method: string, encoder: EncoderSpec, options: Record<string, unknown>): HeadSpec {
  const sampler = getSampler(method);
  const parsed = sampler.options.parse(options);
  return headSpec(method, encoder, { classes: sampler.classes?.(sampler.resolve ? sampler.resolve(parsed) : parsed) });
}

/** How a method's options fit a data set of `trainImages` poorly (a warning; training goes on), or undefined. */
export function methodCaution(method: string, options: Record<string, unknown>, trainImages: number): string | undefined {
  return METHODS[method].caution?.(getSampler(method).options.parse(options), { trainImages });
}

/**
 * What is wrong with a method and its options at an image size on an engine and encoder (unknown
 * method, options its schema rejects, a patch larger than its grid cell, views smaller than the
 * encoder can take, an engine without its loss), or undefined. Checked before any work starts.
 */
export function methodProblem(method: string, options: Record<string, unknown>, size: number, engine?: string, encoder?: string): string | undefined {
  const sampler = (SAMPLERS as Record<string, (typeof SAMPLERS)[keyof typeof SAMPLERS]>)[method];
  if (!sampler || !METHODS[method]) return `unknown method '${method}': choose one of ${Object.keys(METHODS).join(', ')}`;
  const parsed = sampler.options.safeParse(options);
  if (!parsed.success) {
    return `options of ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`;
  }
  let patch: number;
  try {
    patch = sampler.shape(size, parsed.data as never).patch;
  } catch (e) {
    return `${method} at ${size} px: ${(e as Error).message}`;
  }
  const least = encoder ? minimumViewSize(encoderSpec(encoder)) : 0;
  if (patch < least) return `${method} at ${size} px gives ${patch} px views, and ${encoder} needs at least ${least} px (its pooling leaves nothing of a smaller one): use a larger --size or another encoder`;
  const engines = METHODS[method].engines;
  if (engine && engines && !engines.includes(engine)) return `${method} trains on the ${engines.join(' or ')} engine, not ${engine}: pass --engine ${engines[0]}`;
  return undefined;
}
