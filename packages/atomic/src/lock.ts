import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A one-writer lock file: it records the pid and host of the process that holds it. Taken with
 * link(2), so exactly one of two racing processes creates it, already complete. A lock left by a
 * dead process of this host is taken over (with a note); a live holder, or one on another host
 * (whose liveness cannot be checked from here), is refused with the caller's message.
 * Used for run folders (train/run-lock.ts) and dataset caches (data/cache/lock.ts).
 */
export interface LockHolder {
  pid: number;
  host: string;
  started: string;
}

/** Whether a pid on this host is a live process (a zombie or a pid we may not signal still counts as alive). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(path: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return Number.isInteger(v?.pid) && typeof v.host === 'string' && typeof v.started === 'string' ? { pid: v.pid, host: v.host, started: v.started } : undefined;
  } catch {
    return undefined;
  }
}

export interface LockOptions {
  /** the error for a holder that is alive (`sameHost`) or on another host */
  busy(held: LockHolder, sameHost: boolean): Error;
  /** told when the lock of a dead holder (undefined: an unreadable lock, its taker died while writing it) is taken over */
  takenOver?(held: LockHolder | undefined): void;
}

/**
 * Takes the lock at `path` or throws `busy(...)`. Returns the release function (also run at process
 * exit, so an exit() on a second Ctrl-C leaves no lock behind).
 */
export function takeLock(path: string, opts: LockOptions): () => void {
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      }
      const held = readLock(path);
      if (held && held.host !== me.host) throw opts.busy(held, false);
      if (held && pidAlive(held.pid)) throw opts.busy(held, true);
      opts.takenOver?.(held);
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
