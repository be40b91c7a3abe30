import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';

/**
 * Where an export may go. Nothing is deleted that cxr-ssl did not write: an export goes into a new
 * or empty folder, or replaces an earlier export of the same run (its marker says which run), and
 * never into a run folder or a folder that holds one. Files a user added to an earlier export are
 * kept.
 */

/** The folder a finished pretext run exports to at its end (`<run>/export`). */
export const RUN_EXPORT_DIR = 'export';

/** The marker an export leaves in its folder: which run folder it is the export of. */
export const EXPORT_MARKER = '.cxr-ssl-export.json';

/** What an export writes, hence what replacing an earlier export replaces. */
export const EXPORT_FILES = ['model.safetensors', 'config.json', 'encoder.onnx', 'README.md', EXPORT_MARKER];

/** A folder `cxr-ssl pretext` made: config.json beside checkpoints, metrics, weights or its lock. */
export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && ['checkpoints', 'metrics.jsonl', 'encoder.safetensors', 'run.lock'].some((f) => existsSync(join(dir, f)));
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds an earlier export of `run`: by its marker, or (exports before the marker) by config.json's run name. */
function exportOf(dir: string, run: string): 'this run' | 'another run' | undefined {
  const marker = readJson(join(dir, EXPORT_MARKER));
  if (typeof marker?.run === 'string') return marker.run === run ? 'this run' : 'another run';
  const config = readJson(join(dir, 'config.json'));
  if (config?.library !== 'cxr-ssl' || typeof config.run !== 'string') return undefined;
  return config.run === basename(run) ? 'this run' : 'another run';
}

const some = (names: string[]) => `${names.slice(0, 4).join(', ')}${names.length > 4 ? `, … (${names.length} in all)` : ''}`;

/** Why the export of `runDir` may not be written to `outDir`, or undefined when it may. */
export function exportTargetProblem(outDir: string, runDir: string): string | undefined {
  const out = resolve(outDir);
  const run = resolve(runDir);
  if (out === join(run, RUN_EXPORT_DIR)) return undefined; // the run's own export folder
  const rel = relative(out, run);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return `${out} ${rel === '' ? 'is' : 'holds'} the run folder being exported: choose a new folder (e.g. ${run}-export)`;
  if (!existsSync(out)) return undefined;
  if (!statSync(out).isDirectory()) return `${out} is a file: choose a new folder`;
  if (isRunFolder(out)) return `${out} is a pretext run folder: choose a new folder`;
  const entries = readdirSync(out);
  if (entries.length === 0) return undefined;
  const earlier = exportOf(out, run);
  if (earlier === 'this run') return undefined;
  if (earlier === 'another run') return `${out} holds the export of another run: choose a new or empty folder`;
  const runs = entries.filter((e) => isRunFolder(join(out, e)));
  if (runs.length > 0) return `${out} holds pretext run folders (${some(runs)}): choose a new or empty folder`;
  return `${out} is not empty (${some(entries)}) and holds no earlier export of this run: choose a new or empty folder`;
}

/**
 * Writes an export of `runDir` at `outDir`: `build` fills a new sibling folder, which then takes
 * the place of `outDir` (a reader sees the old export or the new one). Files in an earlier export
 * that no export writes are moved into the new one, never deleted.
 */
export function writeExportFolder(outDir: string, runDir: string, build: (dir: string) => void): void {
  const problem = exportTargetProblem(outDir, runDir);
  if (problem) throw new Error(problem);
  mkdirSync(dirname(outDir), { recursive: true });
  const tmp = mkdtempSync(join(dirname(outDir), `.${basename(outDir)}.tmp-`));
  try {
    build(tmp);
    writeFileAtomic(join(tmp, EXPORT_MARKER), `${JSON.stringify({ run: resolve(runDir) })}\n`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!existsSync(outDir)) {
    renameSync(tmp, outDir);
    return;
  }
  const old = `${tmp}-old`;
  renameSync(outDir, old);
  renameSync(tmp, outDir);
  for (const e of readdirSync(old)) if (!EXPORT_FILES.includes(e)) renameSync(join(old, e), join(outDir, e));
  rmSync(old, { recursive: true, force: true }); // only EXPORT_FILES are left in it
}
