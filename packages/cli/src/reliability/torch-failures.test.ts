import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdline, descendants, runCli, startCli, waitFor } from './spawn.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

/**
 * The torch engine fails as cleanly as tfjs: a diverged loss gives tfjs's message (no stack trace), a
 * wrong --python is a usage error naming it, and Ctrl-C while torch is still being imported is an
 * interruption, not "no Python with torch". (child-faults.test.ts: the Python child killed; memory.test.ts:
 * the memory estimate before work.)
 */
const python = torchPythonForTests('cli/reliability/torch-failures.test.ts');
const tmp = mkdtempSync(join(tmpdir(), 'cxr-torchfail-'));
const cacheDir = join(tmp, 'cache');
beforeAll(async () => {
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const args = (run: string, extra: string[] = []) => [
  'pretext', '--task', 'rotation', '--data', 'fx', '--size', '32', '--cache-dir', cacheDir, '--batch-size', '8',
  '--engine', 'torch', '--device', 'cpu', '--threads', '1', '--workers', '0', '--runs-dir', join(tmp, 'runs'), '--run', run, ...extra,
];

describe('a wrong --python', () => {
  for (const [given, why] of [
    ['/nonexistent/python', 'no such file'],
    ['/etc/passwd', 'not an executable program'],
  ]) {
    it(`${given}: exit 2 naming it and what to give instead, before any run folder`, () => {
      const r = runCli(tmp, args('wrong-python', ['--python', given]));
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`cxr-ssl: --python ${given}: ${why}`);
      expect(r.err).toContain('Give the path of a Python with torch');
      expect(r.err).not.toMatch(/^engine:/m); // the choice is refused before the line that reports it
      expect(existsSync(join(tmp, 'runs', 'wrong-python', 'checkpoints'))).toBe(false);
    });
  }

  it('with --engine auto the same: exit 2, not a silent fall-back to tfjs (a missing file, or a Python without torch)', () => {
    const noTorch = join(tmp, 'python-without-torch');
    writeFileSync(noTorch, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
    chmodSync(noTorch, 0o755);
    for (const [given, why] of [
      ['/nonexistent/python', 'no such file'],
      [noTorch, 'it cannot import torch. Give a Python with torch'],
    ]) {
      const r = runCli(tmp, args('wrong-python-auto', ['--python', given, '--engine', 'auto']));
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`cxr-ssl: --python ${given}: ${why}`);
      expect(r.err).not.toMatch(/^engine:|tfjs/m);
      expect(existsSync(join(tmp, 'runs', 'wrong-python-auto'))).toBe(false);
    }
  });
});

describe.skipIf('error' in python)('the torch engine', () => {
  it('--lr 1e9: the non-finite-loss message tfjs gives, exit 1, no stack trace', () => {
    const r = runCli(tmp, args('diverged', ['--epochs', '2', '--lr', '1e9', '--quiet']));
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^cxr-ssl: loss became (NaN|Infinity|-Infinity) at step \d+ \(epoch \d+, batch \d+\); .*Try a lower learning rate \(--lr 100000000\)\.\n$/);
    expect(r.err).not.toMatch(/TorchProcessError|not JSON|\n\s+at /);
  });

  it('Ctrl-C while torch is still being imported: stopped before training, exit 130, not "no Python with torch"', async () => {
    const r = startCli(tmp, args('ctrl-c-import', ['--epochs', '1']), { group: true });
    // the engine's probe of the interpreter (`python -c "import json, sys, torch ..."`), caught importing
    await waitFor(r, 'the probe importing torch', () => descendants(r.child.pid!).some((p) => cmdline(p).includes('import json, sys, torch')), 120_000);
    process.kill(-r.child.pid!, 'SIGINT');
    const { code } = await r.exited;
    expect(code, r.err()).toBe(130);
    expect(r.err()).toMatch(/cxr-ssl: stopped by Ctrl-C before training started: nothing to resume\. Run the same command again\n$/);
    expect(r.err()).not.toMatch(/no Python that can|setup-python/);
  });
});
