import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { permutationSet, writeFileAtomic } from '@cxr-ssl/data';
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
