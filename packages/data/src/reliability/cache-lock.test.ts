import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFiles } from '../cache/format.ts';
import { CacheLockedError, prepare } from '../prepare.ts';
import { fixtureDir } from '../testing/index.ts';

/**
 * One writer per dataset cache (`<cache>/<name>.lock`, like a run folder's run.lock): two prepares of
 * one name at once do not both decode, and the one refused says who holds the cache, not a wrong hint
 * about free space (what it said when the other renamed its partial files away). Fixture X-rays.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-cachelock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const lockOf = (pid: number) => JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z' });

function twin(cacheDir: string, onProgress?: (done: number) => void) {
  return prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32, 64], cacheDir, name: 'twin', workers: 0, onProgress });
}

describe('prepare has one writer per cache', () => {
  it('two prepares of one name at once: one writes the cache, the other is refused before decoding anything', async () => {
    const cacheDir = join(tmp, 'together');
    const decoded = [0, 0];
    const results = await Promise.allSettled([twin(cacheDir, (d) => (decoded[0] = d)), twin(cacheDir, (d) => (decoded[1] = d))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const loser = results.findIndex((r) => r.status === 'rejected');
    const reason = (results[loser] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(CacheLockedError);
    expect(String(reason)).toMatch(new RegExp(`the dataset cache twin in .*together is being prepared by another process: pid ${process.pid} on this host .*Wait for it to finish and rerun`));
    expect(String(reason)).not.toMatch(/free space/);
    expect(decoded[loser]).toBe(0);
    expect(decoded[1 - loser]).toBe(96);
    expect(existsSync(cacheFiles(cacheDir, 'twin', 64).json)).toBe(true);
    expect(existsSync(join(cacheDir, 'twin.lock'))).toBe(false); // released
    // the rerun the message asks for reuses the cache
    expect((await twin(cacheDir)).sizes.map((s) => s.status)).toEqual(['up-to-date', 'up-to-date']);
  });

  it('a live holder of another process is named, and its lock is left alone', async () => {
    const cacheDir = join(tmp, 'live');
    mkdirSync(cacheDir);
    const sleeper = spawn('sleep', ['60']);
    try {
      writeFileSync(join(cacheDir, 'twin.lock'), lockOf(sleeper.pid!));
      await expect(twin(cacheDir)).rejects.toThrow(new RegExp(`being prepared by another process: pid ${sleeper.pid} on this host`));
      expect(readFileSync(join(cacheDir, 'twin.lock'), 'utf8')).toBe(lockOf(sleeper.pid!));
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it("a dead prepare's lock (kill -9) is taken over", async () => {
    const cacheDir = join(tmp, 'stale');
    mkdirSync(cacheDir);
    const dead = Number(spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim());
    writeFileSync(join(cacheDir, 'twin.lock'), lockOf(dead));
    expect((await twin(cacheDir)).total).toBe(96);
    expect(existsSync(join(cacheDir, 'twin.lock'))).toBe(false);
  });
});
