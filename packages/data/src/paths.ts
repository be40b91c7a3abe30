import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/**
 * fixtures/kermany-mini: 96 real 128 px X-rays, {train,test}/{NORMAL,PNEUMONIA}/*.png (prepare's default
 * source): the repository's, or the copy an installed @cxr-ssl/data carries (tools/pack/pack.sh puts it there).
 */
export function fixtureDir(): string {
  const packaged = join(import.meta.dirname, '..', 'fixtures', 'kermany-mini');
  return existsSync(packaged) ? packaged : join(repoRoot(), 'fixtures', 'kermany-mini');
}
