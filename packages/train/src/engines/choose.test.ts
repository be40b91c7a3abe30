import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchPythonError } from '@cxr-ssl/torch';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { METHODS } from '../methods/index.ts';
import { chooseEngine, NoEngineError } from './choose.ts';
import { EngineStartInterrupted } from './protocol.ts';

// A Python without torch, as a machine that has only the system's python3 has: the import fails.
const tmp = mkdtempSync(join(tmpdir(), 'cxr-choose-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());
function script(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  chmodSync(p, 0o755);
  return p;
}
const noTorch = script('python3', "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
// a scheduler's SIGTERM (sent to the whole process group) while the probe still imports torch
const interrupted = script('python-interrupted', '#!/bin/sh\nkill -TERM $$\nsleep 5\n');

describe('chooseEngine: the one place an engine is chosen', () => {
  it('auto without torch takes the next engine of the method, and says why', () => {
    vi.stubEnv('CXR_SSL_PYTHON', 'none'); // no interpreter tried, as on a machine without torch
    const c = chooseEngine('auto', { engines: METHODS.rotation.engines, method: 'rotation' });
    expect(c).toEqual({ name: 'tfjs', reason: 'auto: no Python with torch found (CXR_SSL_PYTHON=none), and rotation also trains on tfjs' });
  });
  it('auto fails only when no engine of the method is available, naming what to do', () => {
    vi.stubEnv('CXR_SSL_PYTHON', 'none');
    const choose = () => chooseEngine('auto', { engines: METHODS.moco.engines, method: 'moco' });
    expect(choose).toThrow(NoEngineError);
    expect(choose).toThrow(/^moco trains on the torch engine only, and CXR_SSL_PYTHON=none switches torch off \(unset it, or pass --python <path>, to use torch\)$/);
  });
  it('a --python that cannot import torch is a wrong option (exit 2), with auto too: never a silent fall-back to tfjs', () => {
    for (const [asked, engines] of [['auto', METHODS.rotation.engines], ['auto', METHODS.moco.engines], ['torch', ['torch', 'tfjs']]] as const) {
      const choose = () => chooseEngine(asked, { engines, python: noTorch, method: 'm' });
      expect(choose, asked).toThrow(TorchPythonError);
      expect(choose, asked).toThrow(`--python ${noTorch}: it cannot import torch. Give a Python with torch (tools/setup-python.sh makes .venv-torch), or leave --python out to use the first one found`);
    }
  });
  it('a --python that is no program is named before anything starts, with auto as with torch', () => {
    for (const asked of ['auto', 'torch'] as const) {
      expect(() => chooseEngine(asked, { python: join(tmp, 'nonexistent') }), asked).toThrow(new TorchPythonError(`--python ${join(tmp, 'nonexistent')}: no such file. Give the path of a Python with torch (e.g. .venv-torch/bin/python, which tools/setup-python.sh makes), or leave --python out to use the first one found`));
      expect(() => chooseEngine(asked, { python: tmp }), asked).toThrow(/: not a file \(a folder\)/);
    }
  });
  it('--engine tfjs does not look at --python (tfjs runs in-process)', () => {
    expect(chooseEngine('tfjs', { python: noTorch })).toEqual({ name: 'tfjs', reason: '--engine tfjs' });
  });
  it('a signal while the probe imports torch is an interruption, not "no torch" (auto does not fall back to tfjs)', () => {
    let thrown: unknown;
    try {
      chooseEngine('auto', { engines: METHODS.rotation.engines, python: interrupted, method: 'rotation' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EngineStartInterrupted);
    expect((thrown as EngineStartInterrupted).signal).toBe('SIGTERM');
    vi.stubEnv('CXR_SSL_PYTHON', interrupted); // the same for the interpreter the usual search finds
    expect(() => chooseEngine('auto', { engines: METHODS.rotation.engines, method: 'rotation' })).toThrow(EngineStartInterrupted);
  });
  it('an engine named by the user is taken as named, and the line says so', () => {
    expect(chooseEngine('torch', { engines: ['torch', 'tfjs'] })).toEqual({ name: 'torch', reason: '--engine torch' });
    expect(chooseEngine('tfjs')).toEqual({ name: 'tfjs', reason: '--engine tfjs' });
  });
  it('every method lists torch first (auto prefers it) and tfjs wherever the tfjs engine has its loss', () => {
    const lists = Object.fromEntries(Object.entries(METHODS).map(([n, m]) => [n, m.engines]));
    expect(lists).toEqual({ context: ['torch', 'tfjs'], jigsaw: ['torch', 'tfjs'], rotation: ['torch', 'tfjs'], simclr: ['torch', 'tfjs'], moco: ['torch'], byol: ['torch'], dino: ['torch'] });
  });
});
