import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson, runCli, startCli, waitFor } from './spawn.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

/**
 * What clusters and containers send before a kill is Ctrl-C: SIGTERM (`timeout`, `docker stop`, SLURM
 * at the time limit) and SIGUSR1 (SLURM's `--signal=USR1@90`), sent to the CLI's whole process group as
 * those tools do (so the torch engine's Python gets it too), finish the step, write a checkpoint, print
 * the resume command and exit 128 + the signal's number. (ctrl-c.test.ts: the same for SIGINT.)
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-signals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const python = torchPythonForTests('cli/reliability/signals.test.ts');

// long enough that only the signal can end it within the test: 40 epochs of 6 steps
const args = (engine: string, run: string) => [
  'pretext', '--method', 'rotation', '--size', '32', '--batch-size', '8', '--epochs', '40', '--engine', engine,
  '--workers', '0', '--cache-dir', 'cache', '--runs-dir', 'runs', '--run', run, ...(engine === 'torch' ? ['--device', 'cpu', '--threads', '1'] : []),
];

// the torch engine's Python ignores SIGTERM and SIGUSR1 alike (packages/torch/tests/test_server.py): one torch row
const cases: [NodeJS.Signals, string, number][] = [['SIGTERM', 'tfjs', 143], ...(!('error' in python) ? [['SIGUSR1', 'torch', 138] as [NodeJS.Signals, string, number]] : [])];

describe('SIGTERM and SIGUSR1 during pretext', () => {
  it('prepares the fixture once', () => {
    const r = runCli(tmp, ['prepare', '--sizes', '32', '--cache-dir', 'cache', '--workers', '0', '--quiet']);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  for (const [signal, engine, exit] of cases) {
    it(`${signal} to the process group, ${engine}: the step finishes, a checkpoint, the resume command, exit ${exit}`, async () => {
      const run = `${engine}-${signal}`;
      const runDir = join(tmp, 'runs', run);
      const r = startCli(tmp, args(engine, run), { group: true });
      await waitFor(r, 'the first step', () => /rotation on kermany-mini-32/.test(r.err()) && existsSync(join(runDir, 'config.json')), 180_000);
      await new Promise((res) => setTimeout(res, 1500)); // a few steps in, well before the end of epoch 1 of 40

      process.kill(-r.child.pid!, signal);
      const { code } = await r.exited;
      expect(code, r.err()).toBe(exit);
      expect(r.err()).toContain(`${signal}: stopping at the next step and writing a checkpoint`);
      const latest = readJson(join(runDir, 'checkpoints', 'latest.json')) as { dir: string };
      const state = readJson(join(runDir, 'checkpoints', latest.dir, 'run.json')) as { epoch: number; step: number };
      expect(state.epoch).toBeLessThan(39);
      expect(r.err()).toContain(`stopped by ${signal}; checkpoint ${join(runDir, 'checkpoints', latest.dir)} kept`);
      expect(r.err()).toContain(`npx cxr-ssl ${args(engine, run).join(' ')} --resume`);
      expect(existsSync(join(runDir, 'encoder.onnx'))).toBe(false);
      expect(readdirSync(runDir)).not.toContain('run.lock');
    }, 300_000);
  }
});
