import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One writer per run folder: `<run>/run.lock` records the pid and host of the process training in
 * it. Two runs in one folder would interleave checkpoints, config.json and metrics.jsonl.
 */
export const LOCK_FILE = 'run.lock';

const LockInfo = z.object({ pid: z.number().int(), host: z.string(), started: z.string() });
type LockInfo = z.infer<typeof LockInfo>;

export class RunLockedError extends Error {}

/** Whether a pid on this host is a live process (a zombie or a pid we may not signal still counts as alive). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const parsed = LockInfo.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the run folder's lock, or throws RunLockedError naming the live run that holds it. A lock
 * left by a dead process of this host is taken over, with `note` saying so. Returns the release
 * function (also run at process exit, so an exit() on a second Ctrl-C leaves no lock behind).
 */
export function lockRunFolder(runDir: string, note: (message: string) => void = () => {}): () => void {
  const path = join(runDir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path); // atomic: exactly one of two racing runs creates the lock, already complete
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      }
      const held = readLock(path);
      if (held && held.host !== me.host) {
        throw new RunLockedError(`${runDir} is in use by pid ${held.pid} on host ${held.host} (since ${held.started}): wait for that run, or use another --run name. If that run is gone, remove ${path}`);
      }
      if (held && pidAlive(held.pid)) {
        throw new RunLockedError(`${runDir} is in use by another run: pid ${held.pid} on this host (since ${held.started}). Wait for it to finish, stop it, or use another --run name`);
      }
      note(held ? `taking over ${path}: its run (pid ${held.pid}, since ${held.started}) is no longer alive` : `taking over ${path}: unreadable, left by a run that died while taking it`);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return release;
}
