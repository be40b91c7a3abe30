import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';

/** packages/train/python: the cxr_torch package the torch engine runs (`python -m cxr_torch.server`). */
export const PYTHON_PACKAGE_DIR = join(import.meta.dirname, '..', '..', 'python');

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

/** The interpreters tried, in order, when none is given explicitly. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.CXR_SSL_PYTHON ? [env.CXR_SSL_PYTHON] : []), '/usr/bin/python3', 'python3'];
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
 * The Python that runs the torch engine: `explicit` alone when given (--python), else the first of
 * $CXR_SSL_PYTHON, /usr/bin/python3, python3 that can `import torch`. Never throws: `{error}` says
 * what was tried and what to do (the caller falls back to tfjs, or reports it). Memoised.
 */
export function findTorchPython(explicit?: string): TorchPython | { error: string } {
  const key = explicit ?? `auto:${process.env.CXR_SSL_PYTHON ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const tried: string[] = [];
  let found: TorchPython | { error: string } | undefined;
  for (const candidate of explicit ? [explicit] : pythonCandidates()) {
    const r = probe(candidate);
    if (typeof r !== 'string') {
      found = r;
      break;
    }
    tried.push(r);
  }
  found ??= {
    error:
      `no Python that can "import torch" was found (tried ${tried.join('; ')}). ` +
      'Run tools/setup-python.sh, then pass --python <path> or set CXR_SSL_PYTHON.',
  };
  cache.set(key, found);
  return found;
}
