import { execFileSync } from 'node:child_process';

/**
 * A really small disk for disk-full tests: a tmpfs of `size` mounted on `dir` (needs root and a
 * kernel that allows it). Returns an unmount function, or undefined (after saying why) where the
 * mount is refused, so the caller can skip with that message.
 */
export function mountTinyDisk(dir: string, size: string, what: string): (() => void) | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    console.warn(`${what} SKIPPED: cannot mount a ${size} tmpfs (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
  return () => execFileSync('umount', ['-l', dir]); // lazy: a leaked handle must not fail the cleanup
}
