import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { TASKS, permutationSet } from '@cxr-ssl/data';
import type { PretextConfig } from './config.ts';

/**
 * Task options as the sampler needs them. Jigsaw's permutation set is generated once from the
 * run's seed and saved in the run folder (permutations.json), so evaluation, resume and other
 * engines use exactly the same classes.
 */
export function resolveTaskOptions(cfg: PretextConfig, runDir: string): Record<string, unknown> {
  if (cfg.task !== 'jigsaw') return cfg.taskOptions;
  const path = join(runDir, 'permutations.json');
  const count = Number(cfg.taskOptions.permutations ?? 100);
  let perms: number[][];
  if (existsSync(path)) {
    perms = JSON.parse(readFileSync(path, 'utf8')) as number[][];
  } else {
    perms = permutationSet(count, cfg.seed);
    writeFileAtomic(path, JSON.stringify(perms));
  }
  return { ...cfg.taskOptions, permutations: perms };
}

/**
 * The config with its task options completed by the task's schema (defaults filled in, e.g. the
 * augmentations), so config.json records what the sampler really does. Call after taskProblem.
 */
export function withTaskDefaults(cfg: PretextConfig): PretextConfig {
  const t = TASKS[cfg.task as keyof typeof TASKS];
  return { ...cfg, taskOptions: t.options.parse(cfg.taskOptions) as Record<string, unknown> };
}

/**
 * What is wrong with a task and its options at an image size (unknown task, options its schema
 * rejects, a patch larger than its grid cell), or undefined. Checked before any work starts.
 */
export function taskProblem(task: string, taskOptions: Record<string, unknown>, size: number): string | undefined {
  const t = TASKS[task as keyof typeof TASKS];
  if (!t) return `unknown task '${task}': choose one of ${Object.keys(TASKS).join(', ')}`;
  const parsed = t.options.safeParse(taskOptions);
  if (!parsed.success) {
    return `options of the ${task} task: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`;
  }
  try {
    t.shape(size, parsed.data as never);
  } catch (e) {
    return `${task} at ${size} px: ${(e as Error).message}`;
  }
  return undefined;
}
