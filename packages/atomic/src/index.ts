import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync a folder so a rename inside it survives a crash (no-op where folders cannot be opened). */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse to open folders: the rename is still atomic, only less durable
  }
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one: a temporary
 * file in the same folder, fsync, rename, fsync of the folder. On failure the temporary file is
 * removed and the error names the path (the cause, e.g. ENOSPC, stays in the message).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  fsyncDir(dirname(path));
}

/**
 * A JSON.parse error without the excerpt of the text V8 quotes ('Unexpected token 'r', "root:x:0:0"...
 * is not valid JSON'): a file that is not what it was said to be must not have its contents printed.
 */
export function jsonErrorWithoutText(e: unknown): string {
  return String((e as Error).message ?? e).replace(/, ".*"(\.\.\.)? is not valid JSON$/s, ': not valid JSON');
}
export { type LockHolder, type LockOptions, readLock, takeLock } from './lock.ts';
