import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import { describe, expect, it } from 'vitest';
import { findTorchPython, pythonCandidates, WORKSPACE_VENV_PYTHON } from './python.ts';

describe('where the torch Python is looked for (CLI, tests and CI share this order)', () => {
  it('--python alone when given; else $CXR_SSL_PYTHON, the workspace .venv-torch, /usr/bin/python3, python3', () => {
    expect(WORKSPACE_VENV_PYTHON).toBe(join(repoRoot(), '.venv-torch', 'bin', 'python'));
    expect(pythonCandidates('/opt/py/bin/python', { CXR_SSL_PYTHON: '/env/python' })).toEqual(['/opt/py/bin/python']);
    expect(pythonCandidates(undefined, { CXR_SSL_PYTHON: '/env/python' })).toEqual(['/env/python', WORKSPACE_VENV_PYTHON, '/usr/bin/python3', 'python3']);
    expect(pythonCandidates(undefined, {})).toEqual([WORKSPACE_VENV_PYTHON, '/usr/bin/python3', 'python3']);
    // the switch that hides torch (the no-torch tests of the CLI); --python still wins over it
    expect(pythonCandidates(undefined, { CXR_SSL_PYTHON: 'none' })).toEqual([]);
    expect(pythonCandidates('/opt/py/bin/python', { CXR_SSL_PYTHON: 'none' })).toEqual(['/opt/py/bin/python']);
  });
  it('tools/setup-python.sh looks in the same places, in the same order', () => {
    const script = readFileSync(join(repoRoot(), 'tools', 'setup-python.sh'), 'utf8');
    expect(script).toContain('VENV=$ROOT/.venv-torch\n');
    const loop = script.match(/^for py in (.*); do$/m)?.[1].split(' ');
    expect(loop).toEqual(['$' + '{CXR_SSL_PYTHON:-}', '"$VENV/bin/python"', '/usr/bin/python3', 'python3']);
  });
  it('a --python that cannot import torch is reported with the path tried and what to do', () => {
    const r = findTorchPython('/nonexistent/python3');
    expect('error' in r && r.error).toMatch(/tried \/nonexistent\/python3: ENOENT\).*tools\/setup-python\.sh.*--python/);
  });
});
