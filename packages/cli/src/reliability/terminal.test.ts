import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { screen } from './screen.ts';
import { BIN, runCli } from './spawn.ts';

/**
 * What a user reads in a terminal: pretext runs under script(1), which gives it a pseudo-terminal,
 * and its output is played on screen() (the controls a progress bar writes) to get the lines shown.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-terminal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) console.warn('terminal test SKIPPED: no script(1) (util-linux) to give the CLI a terminal');
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

describe.skipIf(!hasScript)('pretext in a terminal', () => {
  it('prints each epoch (loss, accuracy, lr) and each held-out pass (top-1 beside chance, collapse measure) above the bar, keeps them after it, and the ETA never reads NFs', () => {
    const args = ['pretext', '--method', 'rotation', '--size', '32', '--epochs', '2', '--steps-per-epoch', '3', '--batch-size', '8', '--engine', 'tfjs', '--run', 'tty'];
    const r = spawnSync('script', ['-qec', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null'], { cwd: tmp, encoding: 'utf8', env: { ...process.env, TERM: 'xterm' } });
    expect(r.status, r.stdout).toBe(0);
    const lines = screen(r.stdout).filter(Boolean);
    const epochs = lines.filter((l) => l.startsWith('epoch '));
    expect(epochs).toHaveLength(2);
    for (const [i, l] of epochs.entries()) expect(l).toMatch(new RegExp(`^epoch ${i + 1}: loss [\\d.]+ acc [\\d.]+ lr [\\d.]+e-\\d$`));
    // 6 steps: one held-out pass, at the end (at least 10 steps apart by default)
    const heldOut = lines.filter((l) => l.startsWith('held-out '));
    expect(heldOut).toEqual([expect.stringMatching(/^held-out at step 6: loss [\d.]+, top-1 [\d.]+ \(chance 0\.250\), spread [\d.]+, rank [\d.]+$/)]);
    const bar = lines.findIndex((l) => /^rotation +\S+ \d+% /.test(l));
    expect(lines[bar]).toMatch(/ 100% 6\/6 \| [\d.]+\/s \| ETA 0s /);
    expect(lines.indexOf(epochs[1])).toBeLessThan(bar); // above the bar, not overwritten by it
    expect(lines.indexOf(heldOut[0])).toBeLessThan(bar);
    expect(lines[bar + 1]).toMatch(/^encoder written: /);
    expect(r.stdout).not.toContain('NFs');
  });
});

describe('help texts', () => {
  it('demo --help promises no time: it depends on the machine and engine, and points to docs/BENCHMARKS.md', () => {
    const r = runCli(tmp, ['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/about \d+ minutes/);
    expect(r.out).toContain('docs/BENCHMARKS.md');
  });
});
