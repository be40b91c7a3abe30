// @cxr-ssl/data/testing: helpers for tests and benches, not part of the runtime API.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../paths.ts';

export { fixtureDir, repoRoot } from '../paths.ts';
export * from './fixture.ts';
export * from './task-batch.ts';
export { mountTinyDisk } from './tiny-disk.ts';

/** <repo>/../shared/data, or $CXR_SSL_SHARED_DATA (a checkout elsewhere, e.g. a git worktree), when present (real data sets; absent on CI). */
export function sharedDataDir(): string | undefined {
  const dir = process.env.CXR_SSL_SHARED_DATA ? resolve(process.env.CXR_SSL_SHARED_DATA) : resolve(repoRoot(), '..', 'shared', 'data');
  return existsSync(dir) ? dir : undefined;
}
