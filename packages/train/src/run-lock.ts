import { join } from 'node:path';
import { takeLock } from '@cxr-ssl/atomic';

/**
 * One writer per run folder: `<run>/run.lock` records the pid and host of the process training in
 * it. Two runs in one folder would interleave checkpoints, config.json and metrics.jsonl.
 */
export const LOCK_FILE = 'run.lock';

export class RunLockedError extends Error {}

/**
 * Takes the run folder's lock, or throws RunLockedError naming the live run that holds it. A lock
 * left by a dead process of this host is taken over, with `note` saying so. Returns the release
 * function (also run at process exit).
 */
export function lockRunFolder(runDir: string, note: (message: string) => void = () => {}): () => void {
  const path = join(runDir, LOCK_FILE);
  return takeLock(path, {
    takenOver: (held) => note(held ? `taking over ${path}: its run (pid ${held.pid}, since ${held.started}) is no longer alive` : `taking over ${path}: unreadable, left by a run that died while taking it`),
    busy: (held, sameHost) =>
      new RunLockedError(
        sameHost
          ? `${runDir} is in use by another run: pid ${held.pid} on this host (since ${held.started}). Wait for it to finish, stop it, or use another --run name`
          : `${runDir} is in use by pid ${held.pid} on host ${held.host} (since ${held.started}): wait for that run, or use another --run name. If that run is gone, remove ${path}`,
      ),
  });
}
