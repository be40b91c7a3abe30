import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Helpers for tests and benches: where the repo, its fixture and the optional shared data are. */

let root: string | undefined;

/** The workspace root: the nearest ancestor whose package.json declares `workspaces`. */
export function repoRoot(): string {
  if (root) return root;
  let dir = import.meta.dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`repoRoot: no package.json with "workspaces" above ${import.meta.dirname}`);
    dir = up;
  }
}

/** fixtures/kermany-mini: 96 real 128 px X-rays, {train,test}/{NORMAL,PNEUMONIA}/*.png */
export function fixtureDir(): string {
  return join(repoRoot(), 'fixtures', 'kermany-mini');
}

/** <repo>/../shared/data when present (real data sets; absent on CI). */
export function sharedDataDir(): string | undefined {
  const dir = resolve(repoRoot(), '..', 'shared', 'data');
  return existsSync(dir) ? dir : undefined;
}

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
