import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson, runCli, startCli, waitFor } from './spawn.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

/**
 * Ctrl-C as a user presses it: the real CLI on the fixture, SIGINT once training is under way. The
 * current step finishes, a checkpoint is written, the command that continues is printed, exit 130,
 * within seconds (not at the end of the epoch or the run), and no encoder.onnx path is printed.
 * A second run started on the same folder meanwhile is refused, naming the first.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-sigint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const python = torchPythonForTests('cli/reliability/ctrl-c.test.ts');

// long enough that only Ctrl-C can end it within the test: 40 epochs of 6 steps
const args = (engine: string, workers: number, run: string) => [
  'pretext', '--method', 'rotation', '--size', '32', '--batch-size', '8', '--epochs', '40', '--engine', engine,
  '--workers', String(workers), '--cache-dir', 'cache', '--runs-dir', 'runs', '--run', run, ...(engine === 'torch' ? ['--device', 'cpu', '--threads', '1'] : []),
];

const settings: [string, number][] = [['tfjs', 0], ['tfjs', 1], ...(python ? ([['torch', 0], ['torch', 1]] as [string, number][]) : [])];
if (!python) console.warn('ctrl-c.test: no Python with torch found, the torch rows are skipped');

describe('Ctrl-C during pretext', () => {
  it('prepares the fixture once', () => {
    const r = runCli(tmp, ['prepare', '--sizes', '32', '--cache-dir', 'cache', '--workers', '0', '--quiet']);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  for (const [engine, workers] of settings) {
    it(`${engine}, --workers ${workers}: stops after the current step with a checkpoint, the resume command and exit 130`, async () => {
      const run = `${engine}-${workers}`;
      const runDir = join(tmp, 'runs', run);
      const r = startCli(tmp, args(engine, workers, run));
      await waitFor(r, 'the first step', () => /rotation on kermany-mini-32/.test(r.err()) && existsSync(join(runDir, 'config.json')), 180_000);
      await new Promise((res) => setTimeout(res, 1500)); // a few steps in, well before the end of epoch 1 of 40

      if (engine === 'tfjs' && workers === 0) {
        // the same folder from a second shell while the first trains: refused, naming the first
        const second = runCli(tmp, args(engine, workers, run).concat('--resume'));
        expect(second.code).toBe(1);
        expect(second.err).toMatch(new RegExp(`in use by another run: pid ${r.child.pid} on this host`));
      }

      const sent = Date.now();
      r.child.kill('SIGINT');
      const { code } = await r.exited;
      const took = (Date.now() - sent) / 1000;
      expect(code, r.err()).toBe(130);
      expect(took).toBeLessThan(20); // a step and a checkpoint, not the rest of the run (40 epochs)
      const latest = readJson(join(runDir, 'checkpoints', 'latest.json')) as { dir: string };
      const state = readJson(join(runDir, 'checkpoints', latest.dir, 'run.json')) as { epoch: number; step: number };
      expect(state.epoch).toBeLessThan(39);
      expect(r.err()).toContain(`checkpoint ${join(runDir, 'checkpoints', latest.dir)} kept`);
      expect(r.err()).toContain(`npx cxr-ssl ${args(engine, workers, run).join(' ')} --resume`);
      expect(r.err()).not.toMatch(/encoder\.onnx(?! yet)/);
      expect(existsSync(join(runDir, 'encoder.onnx'))).toBe(false);
      expect(readdirSync(runDir)).not.toContain('run.lock'); // released on the way out
    }, 300_000);
  }
});
