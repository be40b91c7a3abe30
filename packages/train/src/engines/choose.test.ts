import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { METHODS } from '../methods/index.ts';
import { chooseEngine, NoEngineError } from './choose.ts';

// A Python without torch, as a machine that has only the system's python3 has: the import fails.
const tmp = mkdtempSync(join(tmpdir(), 'cxr-choose-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const noTorch = join(tmp, 'python3');
writeFileSync(noTorch, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
chmodSync(noTorch, 0o755);

describe('chooseEngine: the one place an engine is chosen', () => {
  it('auto without torch takes the next engine of the method, and says why', () => {
    const c = chooseEngine('auto', { engines: METHODS.rotation.engines, python: noTorch, method: 'rotation' });
    expect(c).toEqual({ name: 'tfjs', reason: 'auto: no Python with torch found, and rotation also trains on tfjs' });
  });
  it('auto fails only when no engine of the method is available, naming the interpreter tried and what to install', () => {
    const choose = () => chooseEngine('auto', { engines: METHODS.moco.engines, python: noTorch, method: 'moco' });
    expect(choose).toThrow(NoEngineError);
    expect(choose).toThrow(new RegExp(`^moco trains on the torch engine only, and no Python that can "import torch" was found \\(tried ${noTorch}: exit 1 \\(ModuleNotFoundError: No module named 'torch'\\)\\)\\. Run \`bash tools/setup-python\\.sh\``));
  });
  it('an engine named by the user is taken as named, and the line says so', () => {
    expect(chooseEngine('torch', { engines: ['torch', 'tfjs'], python: noTorch })).toEqual({ name: 'torch', reason: '--engine torch' });
    expect(chooseEngine('tfjs')).toEqual({ name: 'tfjs', reason: '--engine tfjs' });
  });
  it('every method lists torch first (auto prefers it) and tfjs wherever the tfjs engine has its loss', () => {
    const lists = Object.fromEntries(Object.entries(METHODS).map(([n, m]) => [n, m.engines]));
    expect(lists).toEqual({ context: ['torch', 'tfjs'], jigsaw: ['torch', 'tfjs'], rotation: ['torch', 'tfjs'], simclr: ['torch', 'tfjs'], moco: ['torch'], byol: ['torch'], dino: ['torch'] });
  });
});
