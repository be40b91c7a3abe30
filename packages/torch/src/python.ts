import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** packages/torch: the folder holding cxr_torch, the package the torch engine runs (`python -m cxr_torch.server`). */
export const PYTHON_PACKAGE_DIR = join(import.meta.dirname, '..');

/** The JSON Schema cxr_torch validates each `init` against (written by tools/gen-torch-schema.ts from train's zod). */
export const TORCH_SCHEMA_PATH = join(PYTHON_PACKAGE_DIR, 'cxr_torch', 'spec.schema.json');

export interface TorchPython {
  /** absolute interpreter path (sys.executable) */
  path: string;
  torchVersion: string;
  cuda: boolean;
  /** the CUDA device name when cuda is true */
  gpu?: string;
  /** bytes of memory of CUDA device 0, when cuda is true (what a step's estimate is held against) */
  gpuMemory?: number;
}

/** No Python with torch was found; `interrupted`: because a signal (Ctrl-C, SIGTERM) stopped the probe, not because there is none. */
export type NoTorchPython = {
  error: string;
  interrupted?: NodeJS.Signals;
  /** each interpreter tried and why it failed (`<path>: exit 1 (...)`) */
  tried?: string[];
};

/** The interpreter named by --python cannot run the torch engine: a wrong option (the CLI exits 2). */
export class TorchPythonError extends Error {}

const Probe = z.object({ executable: z.string(), torch: z.string(), cuda: z.boolean(), gpu: z.string().nullable(), gpuMemory: z.number().nullable().optional() });

const PROBE = [
  'import json, sys, torch',
  'cuda = torch.cuda.is_available()',
  "print(json.dumps({'executable': sys.executable, 'torch': torch.__version__, 'cuda': cuda,",
  "  'gpu': torch.cuda.get_device_name(0) if cuda else None,",
  "  'gpuMemory': torch.cuda.get_device_properties(0).total_memory if cuda else None}))",
].join('\n');

/**
 * What is wrong with an interpreter path (--python), from the file alone, before anything is started:
 * a missing file, a folder, or a file that is not executable (e.g. /etc/passwd). A bare command name
 * (`python3`) is looked up on PATH when started, and is not checked here.
 */
export function pythonPathProblem(path: string): string | undefined {
  if (!path.includes('/')) return undefined;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    return `--python ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}. Give the path of a Python with torch (e.g. .venv-torch/bin/python, which tools/setup-python.sh makes), or leave --python out to use the first one found`;
  }
  if (!st.isFile()) return `--python ${path}: not a file (${st.isDirectory() ? 'a folder' : 'not a regular file'}). Give the interpreter itself, e.g. ${join(path, 'bin', 'python')}`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `--python ${path}: not an executable program (is it a Python interpreter?). Give the path of a Python with torch, or leave --python out to use the first one found`;
  }
  return undefined;
}

/** The venv tools/setup-python.sh makes where pip reaches a package index. */
export const WORKSPACE_VENV_PYTHON = join(import.meta.dirname, '..', '..', '..', '.venv-torch', 'bin', 'python');

/** `CXR_SSL_PYTHON=none`: no Python is tried, so the tools run as on a machine without torch (tfjs where the method has it). */
export const NO_TORCH = 'none';

/**
 * The interpreters tried, in order: --python alone when given (a wrong path is reported, not
 * silently replaced), else $CXR_SSL_PYTHON, the workspace's .venv-torch, /usr/bin/python3, python3;
 * none at all when $CXR_SSL_PYTHON is `none`.
 * The CLI, the tests and tools/setup-python.sh (hence CI) share this order.
 */
export function pythonCandidates(explicit?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [explicit];
  if (env.CXR_SSL_PYTHON === NO_TORCH) return [];
  const all = [env.CXR_SSL_PYTHON, WORKSPACE_VENV_PYTHON, '/usr/bin/python3', 'python3'];
  return [...new Set(all.filter((c): c is string => !!c))];
}

/** A probe stopped by a signal sent to our process group (Ctrl-C, a cluster's SIGTERM) says nothing about the interpreter. */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGHUP'];

function probe(candidate: string): TorchPython | string | { interrupted: NodeJS.Signals } {
  const r = spawnSync(candidate, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `${candidate}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  if (r.signal && INTERRUPTS.includes(r.signal)) return { interrupted: r.signal };
  if (/\bKeyboardInterrupt\b/.test(r.stderr)) return { interrupted: 'SIGINT' }; // Python turned the SIGINT into an exception
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return `${candidate}: exit ${r.status}${last ? ` (${last})` : ''}`;
  }
  const lines = r.stdout.trim().split('\n');
  const parsed = Probe.safeParse(JSON.parse(lines[lines.length - 1] || 'null'));
  if (!parsed.success) return `${candidate}: unexpected probe output ${r.stdout.slice(0, 200)}`;
  const p = parsed.data;
  return { path: p.executable, torchVersion: p.torch, cuda: p.cuda, ...(p.gpu ? { gpu: p.gpu } : {}), ...(p.gpuMemory ? { gpuMemory: p.gpuMemory } : {}) };
}

const cache = new Map<string, TorchPython | NoTorchPython>();

/**
 * The Python that runs the torch engine: the first of pythonCandidates() that can `import torch`.
 * Never throws: `{error}` names every place tried and what to do (the caller falls back to tfjs,
 * or reports it). Memoised.
 */
export function findTorchPython(explicit?: string): TorchPython | NoTorchPython {
  const key = `${explicit ?? ''}|${process.env.CXR_SSL_PYTHON ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const tried: string[] = [];
  let found: TorchPython | NoTorchPython | undefined;
  for (const candidate of pythonCandidates(explicit)) {
    const r = probe(candidate);
    if (typeof r !== 'string' && 'interrupted' in r) {
      // not cached: the next call (a rerun after Ctrl-C) must look again
      return { error: `stopped by ${r.interrupted} while ${candidate} was importing torch (nothing was started)`, interrupted: r.interrupted };
    }
    if (typeof r !== 'string') {
      found = r;
      break;
    }
    tried.push(r);
  }
  if (!found && tried.length === 0) found = { error: `CXR_SSL_PYTHON=${NO_TORCH} switches torch off (unset it, or pass --python <path>, to use torch)` };
  found ??= {
    error:
      `no Python that can "import torch" was found (tried ${tried.join('; ')}). ` +
      'Run `bash tools/setup-python.sh` (it installs torch where the next run finds it), or pass --python <path> / set CXR_SSL_PYTHON.',
    tried,
  };
  cache.set(key, found);
  return found;
}
