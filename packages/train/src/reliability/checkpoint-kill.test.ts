import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountTinyDisk } from '@cxr-ssl/data/testing';
import { type LoadedCheckpoint, readLatestCheckpoint, writeCheckpoint } from '../checkpoint.ts';

/**
 * A checkpoint being written when the process dies never replaces the last good one:
 * a writer is SIGKILLed at several moments (most land inside a 12 MB write), and on a really
 * full disk (1 MiB tmpfs) a checkpoint that does not fit fails clearly and leaves `latest` alone.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-ckptkill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SCRIPT = join(import.meta.dirname, 'checkpoint-writer.script.ts');

function expectIntact(c: LoadedCheckpoint | undefined): number {
  expect(c).toBeDefined();
  const step = c!.state.step;
  for (const t of [...c!.weights.values(), ...c!.optimizer.values()]) {
    expect(t.data.every((v) => v === step), `tensors of step ${step} hold their step`).toBe(true);
  }
  return step;
}

/** Starts the writer, kills it once `after` checkpoints were reported plus `delayMs`. */
async function killWriter(runDir: string, after: number, delayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, runDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let reported = 0;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      reported = Number(d.toString().trim().split('\n').pop());
      if (reported >= after) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  return reported;
}

describe('checkpoints under kill -9', () => {
  it('after each kill, latest.json names a complete checkpoint that loads, at or after the last one reported', async () => {
    const runDir = join(tmp, 'run');
    let last = 0;
    for (const delayMs of [0, 9, 31]) {
      const reported = await killWriter(runDir, last + 2, delayMs);
      const step = expectIntact(readLatestCheckpoint(runDir));
      expect(step).toBeGreaterThanOrEqual(reported);
      last = step;
    }
    // the next writer removes what a killed one left half-written
    writeCheckpoint(runDir, { version: 1, epoch: 0, batch: 0, step: last + 1, configHash: 'k', engine: 'none', created: '' }, new Map(), new Map());
    expect(readdirSync(join(runDir, 'checkpoints')).filter((d) => d.startsWith('.tmp-'))).toEqual([]);
  });
});

const disk = join(tmp, 'disk');
mkdirSync(disk);
const unmount = mountTinyDisk(disk, '1m', 'checkpoint disk-full test');
const mounted = unmount !== undefined;
afterAll(() => {
  unmount?.();
});

describe.skipIf(!mounted)('a checkpoint on a full disk (1 MiB tmpfs)', () => {
  it('fails with ENOSPC naming the file; latest.json still names the previous intact checkpoint', () => {
    const state = (step: number) => ({ version: 1 as const, epoch: step, batch: 0, step, configHash: 'k', engine: 'none', created: '' });
    const fill = (n: number, v: number) => new Map([['features.0.weight', { shape: [n], data: new Float32Array(n).fill(v) }]]);
    writeCheckpoint(disk, state(1), fill(50_000, 1), fill(50_000, 1)); // 400 KB: fits
    const latest = readFileSync(join(disk, 'checkpoints', 'latest.json'), 'utf8');
    const err = (() => {
      try {
        writeCheckpoint(disk, state(2), fill(100_000, 2), fill(100_000, 2)); // 800 KB more: does not
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/cannot write checkpoint .*step-00000002 \(.*ENOSPC: no space left.*\); the previous checkpoint in .* is kept: free space there and continue with --resume/);
    expect(readFileSync(join(disk, 'checkpoints', 'latest.json'), 'utf8')).toBe(latest);
    expect(expectIntact(readLatestCheckpoint(disk))).toBe(1);
    // the half-written checkpoint does not stay behind filling the disk
    expect(readdirSync(join(disk, 'checkpoints')).filter((d) => d !== 'latest.json')).toEqual(['step-00000001']);
    expect(existsSync(join(disk, 'checkpoints', 'step-00000002'))).toBe(false);
    cpSync(join(disk, 'checkpoints'), join(tmp, 'copied'), { recursive: true }); // readable as a whole
  });
});
