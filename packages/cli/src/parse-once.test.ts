import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { METHODS } from '@cxr-ssl/train';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from './main.ts';

// One run parses its method's options once (docs/METHOD-WALK.md): the CLI's usage check parses them,
// and the run, its resume check, the tfjs and torch memory fits, the batch stream and the held-out pass
// take that parse. Counted on the method's own schema, as the CLI runs in-process on fixture X-rays.
const python = torchPythonForTests('cli/parse-once.test.ts');
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-parse-once-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

/** `cxr-ssl pretext` in this process; how many times the method's options schema parsed something. */
async function parsesOf(method: string, ...args: string[]): Promise<number> {
  const schema = METHODS[method].options;
  const spies = [vi.spyOn(schema, 'parse'), vi.spyOn(schema, 'safeParse'), vi.spyOn(schema, 'parseAsync'), vi.spyOn(schema, 'safeParseAsync')];
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const flags = ['--method', method, '--engine', 'tfjs', '--encoder', 'vgg-small', '--size', '32', '--data', 'fx', '--cache-dir', join(tmp, 'cache'), '--runs-dir', join(tmp, 'runs')];
    await buildProgram().parseAsync(['node', 'cxr-ssl', 'pretext', ...flags, '--epochs', '1', '--steps-per-epoch', '2', '--batch-size', '8', '--logger', 'none', '--quiet', ...args]);
    return spies.reduce((n, s) => n + s.mock.calls.length, 0);
  } finally {
    for (const s of [...spies, log]) s.mockRestore();
  }
}

describe('a pretext run parses its options once', () => {
  it('a new run, then its resume (config.json compared as written)', async () => {
    expect(await parsesOf('rotation', '--set', 'augment=[]', '--run', 'r')).toBe(1);
    expect(existsSync(join(tmp, 'runs', 'r', 'encoder.onnx'))).toBe(true);
    expect(await parsesOf('rotation', '--set', 'augment=[]', '--run', 'r', '--resume')).toBe(1);
  }, 120_000);

  it.skipIf('error' in python)('on torch too: its memory estimate takes the parsed method', async () => {
    expect(await parsesOf('simclr', '--engine', 'torch', '--device', 'cpu', '--threads', '1', '--workers', '0', '--run', 't')).toBe(1);
    expect(existsSync(join(tmp, 'runs', 't', 'encoder.onnx'))).toBe(true);
  }, 120_000);

  it('the resume check still tells other options apart without parsing them again', async () => {
    await expect(parsesOf('rotation', '--run', 'r', '--resume')).rejects.toThrow(/different configuration/);
  }, 60_000);
});
