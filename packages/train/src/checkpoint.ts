import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, jsonErrorWithoutText, writeFileAtomic } from '@cxr-ssl/atomic';
import { readSafetensors, writeSafetensors, type Weights } from '@cxr-ssl/models';
import { z } from 'zod';

/**
 * Checkpoint layout (one folder per checkpoint, under <run>/checkpoints/):
 *   step-00001234/weights.safetensors    canonical weights (encoder + head)
 *   step-00001234/optimizer.safetensors  momentum buffers, same names
 *   step-00001234/run.json               where training stands (CheckpointState)
 *   latest.json                          { dir } of the newest complete checkpoint
 * A checkpoint is written into a temporary folder and renamed into place, then latest.json is
 * replaced atomically: a kill at any moment leaves the previous checkpoint as `latest`.
 */
export const CheckpointState = z.object({
  version: z.literal(1),
  /** epoch in progress (0-based) and the next batch index within it */
  epoch: z.number().int().nonnegative(),
  batch: z.number().int().nonnegative(),
  /** optimiser steps taken so far */
  step: z.number().int().nonnegative(),
  configHash: z.string(),
  engine: z.string(),
  created: z.string(),
});
export type CheckpointState = z.infer<typeof CheckpointState>;

const Latest = z.object({ dir: z.string() });
const KEEP = 2;

export function writeCheckpoint(
  runDir: string,
  state: CheckpointState,
  weights: Weights,
  optimizer: Weights,
): string {
  const root = join(runDir, 'checkpoints');
  mkdirSync(root, { recursive: true });
  const name = `step-${String(state.step).padStart(8, '0')}`;
  const tmp = join(root, `.tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const final = join(root, name);
  try {
    mkdirSync(tmp);
    writeSafetensors(join(tmp, 'weights.safetensors'), weights, { format: 'pt' });
    writeSafetensors(join(tmp, 'optimizer.safetensors'), optimizer, { format: 'pt' });
    writeFileAtomic(join(tmp, 'run.json'), JSON.stringify(state, null, 2));
  } catch (e) {
    // a failed write (disk full) must not leave a half checkpoint filling the disk; latest.json is untouched
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot write checkpoint ${final} (${code ? `${code}: ` : ''}${(e as Error).message}); ` +
        `the previous checkpoint in ${root} is kept: free space there and continue with --resume`,
    );
  }
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(root);
  writeFileAtomic(join(root, 'latest.json'), JSON.stringify({ dir: name }));
  pruneCheckpoints(root, name);
  return final;
}

function pruneCheckpoints(root: string, newest: string): void {
  const all = readdirSync(root)
    .filter((d) => /^step-\d+$/.test(d))
    .sort();
  for (const d of all.slice(0, Math.max(0, all.length - KEEP))) {
    if (d !== newest) rmSync(join(root, d), { recursive: true, force: true });
  }
  // leftovers of a writer killed mid-checkpoint
  for (const d of readdirSync(root).filter((d) => d.startsWith('.tmp-'))) {
    if (!d.endsWith(`-${process.pid}`)) rmSync(join(root, d), { recursive: true, force: true });
  }
}

export interface LoadedCheckpoint {
  dir: string;
  state: CheckpointState;
  weights: Weights;
  optimizer: Weights;
}

/** The newest complete checkpoint of a run, or undefined when it has none. Everything it loads is checked. */
export function readLatestCheckpoint(runDir: string): LoadedCheckpoint | undefined {
  const root = join(runDir, 'checkpoints');
  const latestPath = join(root, 'latest.json');
  if (!existsSync(latestPath)) return undefined;
  const latest = Latest.safeParse(readJsonFile(latestPath, root));
  if (!latest.success) throw new Error(`${latestPath}: not a checkpoint pointer ({"dir": "step-…"}): ${latest.error.issues[0]?.message}; ${restartAdvice(root)}`);
  const name = latest.data.dir;
  const dir = join(root, name);
  const statePath = join(dir, 'run.json');
  const parsed = CheckpointState.safeParse(readJsonFile(statePath, root, name));
  if (!parsed.success) {
    throw new Error(`${statePath}: not a checkpoint of this version (${parsed.error.issues[0]?.message}); start a new run or remove the folder`);
  }
  return { dir, state: parsed.data, weights: readTensors(join(dir, 'weights.safetensors'), root, name), optimizer: readTensors(join(dir, 'optimizer.safetensors'), root, name) };
}

/** What to do when a checkpoint file is damaged: the other checkpoint kept beside it, or a fresh run. */
function restartAdvice(root: string, damaged?: string): string {
  const others = existsSync(root) ? readdirSync(root).filter((d) => /^step-\d+$/.test(d) && d !== damaged).sort() : [];
  const previous = others.at(-1);
  return previous
    ? `continue from the previous checkpoint by writing {"dir": "${previous}"} to ${join(root, 'latest.json')} and running again with --resume, or start over under a new --run name`
    : 'no other checkpoint is kept: start over under a new --run name (or remove the run folder)';
}

function readJsonFile(path: string, root: string, checkpoint?: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read it as JSON (${jsonErrorWithoutText(e)}); ${restartAdvice(root, checkpoint)}`);
  }
}

/**
 * A checkpoint's tensors, refused when damaged or when any value is NaN or infinite: resuming from
 * them would train on (and export) a broken network without a word.
 */
function readTensors(path: string, root: string, checkpoint: string): Weights {
  let weights: Weights;
  try {
    weights = readSafetensors(path).weights;
  } catch (e) {
    // the generic advice of the weights reader ("re-export") does not fit a checkpoint
    const why = (e as Error).message.replace(/ Re-export the weights or check the path\.$/, '');
    throw new Error(`checkpoint ${checkpoint} is damaged: ${why}; ${restartAdvice(root, checkpoint)}`);
  }
  for (const [name, t] of weights) {
    const bad = t.data.reduce((n, v) => (Number.isFinite(v) ? n : n + 1), 0);
    if (bad > 0) {
      throw new Error(`${path}: tensor "${name}" holds ${bad} non-finite value(s) (NaN or infinity) of ${t.data.length}; the run diverged before this checkpoint was written. ${restartAdvice(root, checkpoint)}, with a lower --lr`);
    }
  }
  return weights;
}
