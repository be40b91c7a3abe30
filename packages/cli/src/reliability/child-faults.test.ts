import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, prepare } from '@cxr-ssl/data';
import { readLatestCheckpoint } from '@cxr-ssl/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, alive, cmdline, descendants, startCli, waitFor } from './spawn.ts';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

/**
 * The torch engine's Python child dies (SIGKILL, an import error, the OOM killer's exit 137):
 * the CLI names the exit code and the child's last message, exits non-zero, keeps the last
 * checkpoint, and leaves no process behind.
 */
const python = torchPythonForTests('cli/reliability/child-faults.test.ts');

const tmp = mkdtempSync(join(tmpdir(), 'cxr-childfault-'));
const cacheDir = join(tmp, 'cache');
beforeAll(async () => {
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const args = (run: string, extra: string[] = []) => [
  'pretext', '--task', 'rotation', '--data', 'fx', '--size', '32', '--cache-dir', cacheDir, '--epochs', '200',
  '--batch-size', '8', '--steps-per-epoch', '3', '--engine', 'torch', '--device', 'cpu', '--threads', '1',
  '--workers', '0', '--runs-dir', join(tmp, 'runs'), '--run', run, '--quiet', ...extra,
];

function script(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  chmodSync(p, 0o755);
  return p;
}

/** An interpreter that runs the real engine server, but does `fault` (Python lines) at the step after `steps` steps. */
function faultyPython(name: string, steps: number, fault: string[]): string {
  const wrapper = script(`${name.replaceAll('-', '_')}_server.py`, [
    'import os, sys',
    `sys.path.insert(0, ${JSON.stringify(PYTHON_PACKAGE_DIR)})`,
    'from cxr_torch import server',
    'steps = [0]',
    'real_step = server.Server.step',
    'def step(self, kind, header):',
    '    steps[0] += 1',
    `    if steps[0] > ${steps}:`,
    ...fault.map((line) => `        ${line}`),
    '    return real_step(self, kind, header)',
    'server.Server.step = step',
    'sys.exit(server.main())',
  ].join('\n'));
  // the engine's probe of the interpreter (`-c "import torch …"`) goes to the real one
  const real = 'path' in python ? python.path : 'python3';
  return script(`${name}-python`, `#!/bin/sh\n[ "$1" = -c ] && exec ${real} "$@"\nexec ${real} ${wrapper}\n`);
}

/** Runs the CLI to its end, noting every process it started on the way; checks none outlives it. */
async function runWatched(cliArgs: string[], during?: (r: Running, seen: Set<number>) => Promise<void>) {
  const r = startCli(tmp, cliArgs);
  const seen = new Set<number>();
  const watch = setInterval(() => {
    for (const p of descendants(r.child.pid!)) seen.add(p);
  }, 20);
  try {
    await during?.(r, seen);
    const { code } = await r.exited;
    const deadline = Date.now() + 10_000;
    while ([...seen].some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const left = [...seen].filter(alive).map((p) => `${p} ${cmdline(p)}`);
    expect(left, 'processes left behind').toEqual([]);
    return { code, err: r.err(), seen };
  } finally {
    clearInterval(watch);
  }
}

describe.skipIf('error' in python)('the Python child of the torch engine dies', () => {
  it('SIGKILLed mid-run: exit 1 naming the likely cause (the OOM killer) with the step\'s memory estimate; the last checkpoint is intact', async () => {
    const run = join(tmp, 'runs', 'killed-child');
    const r = await runWatched(args('killed-child'), async (cli, seen) => {
      await waitFor(cli, 'a checkpoint', () => existsSync(join(run, 'checkpoints', 'latest.json')));
      const child = [...seen, ...descendants(cli.child.pid!)].find((p) => cmdline(p).includes('cxr_torch.server'));
      expect(child, 'the python child').toBeDefined();
      process.kill(child!, 'SIGKILL');
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cxr-ssl: torch engine: the Python process was killed by SIGKILL, not by cxr-ssl: most likely the kernel's out-of-memory killer/);
    expect(r.err).toMatch(/Its step of 8 samples × 1 view of 32 px on vgg-small-bn needs about [\d.]+ GiB of host memory by cxr-ssl's estimate, and [\d.]+ GiB was available when it started\. That fits what there was/);
    expect(readLatestCheckpoint(run)!.state.step).toBeGreaterThanOrEqual(3);
  });

  it('an interpreter that cannot import torch: exit 2, a wrong --python', async () => {
    const fake = script('no-torch-python', [
      '#!/bin/sh',
      'echo "Traceback (most recent call last):" >&2',
      `echo "ModuleNotFoundError: No module named 'torch'" >&2`,
      'exit 1',
    ].join('\n'));
    const r = await runWatched(args('no-torch', ['--python', fake]));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cxr-ssl: --python ${fake}: it cannot import torch. Give a Python with torch`);
    expect(existsSync(join(tmp, 'runs', 'no-torch', 'checkpoints'))).toBe(false);
  });

  it('killed for memory (exit 137) after a few steps: the code and its last words are reported', async () => {
    const fake = faultyPython('oom', 4, [
      "sys.stderr.write('RuntimeError: simulated out of memory (the kernel OOM killer exits us with 137)\\n')",
      'sys.stderr.flush()',
      'os._exit(137)',
    ]);
    const r = await runWatched(args('oom', ['--python', fake]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the Python process exited \(code 137, signal null\)/);
    expect(r.err).toMatch(/simulated out of memory/);
    expect(r.seen.size).toBeGreaterThan(0);
    expect(readFileSync(join(tmp, 'runs', 'oom', 'config.json'), 'utf8')).toContain('"rotation"');
  });

  it('an allocation that fails in Python (CUDA out of memory): its message, then the estimate of the step', async () => {
    const fake = faultyPython('cuda-oom', 2, ["raise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB (simulated)')"]);
    const r = await runWatched(args('cuda-oom', ['--python', fake]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Python failed on "train": RuntimeError: CUDA out of memory\. Tried to allocate 2\.00 GiB \(simulated\)\nA step of 8 samples needs about [\d.]+ GiB of host memory by cxr-ssl's estimate: lower --batch-size or --size\./);
  });
});
