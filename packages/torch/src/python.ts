import { spawnSync } from 'node:child_process';
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
}

const Probe = z.object({ executable: z.string(), torch: z.string(), cuda: z.boolean(), gpu: z.string().nullable() });

const PROBE = [
  'import json, sys, torch',
  'cuda = torch.cuda.is_available()',
  "print(json.dumps({'executable': sys.executable, 'torch': torch.__version__, 'cuda': cuda,",
  "  'gpu': torch.cuda.get_device_name(0) if cuda else None}))",
].join('\n');

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

function probe(candidate: string): TorchPython | string {
  const r = spawnSync(candidate, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `${candidate}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return `${candidate}: exit ${r.status}${last ? ` (${last})` : ''}`;
  }
  const lines = r.stdout.trim().split('\n');
  const parsed = Probe.safeParse(JSON.parse(lines[lines.length - 1] || 'null'));
  if (!parsed.success) return `${candidate}: unexpected probe output ${r.stdout.slice(0, 200)}`;
  const p = parsed.data;
  return { path: p.executable, torchVersion: p.torch, cuda: p.cuda, ...(p.gpu ? { gpu: p.gpu } : {}) };
}

const cache = new Map<string, TorchPython | { error: string }>();

/**
 * The Python that runs the torch engine: the first of pythonCandidates() that can `import torch`.
 * Never throws: `{error}` names every place tried and what to do (the caller falls back to tfjs,
 * or reports it). Memoised.
 */
export function findTorchPython(explicit?: string): TorchPython | { error: string } {
  const key = `${explicit ?? ''}|${process.env.CXR_SSL_PYTHON ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const tried: string[] = [];
  let found: TorchPython | { error: string } | undefined;
  for (const candidate of pythonCandidates(explicit)) {
    const r = probe(candidate);
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
  };
  cache.set(key, found);
  return found;
}
