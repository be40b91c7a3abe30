import { appendFileSync } from 'node:fs';
import { findTorchPython } from '../python.ts';

/**
 * The one guard of every test suite that needs the torch engine. Where a Python with torch is
 * found the suite runs. Under CI (`CI` set) a missing torch is a failure, never a silent skip.
 * Elsewhere the suite is skipped, and the test run prints one line naming every suite it skipped
 * (torch-skip-summary.ts, the packages' vitest globalSetup; a lone file prints its own).
 */
export interface TorchTests {
  /** the interpreter with torch, when found */
  python?: string;
  /** true: skip the suite (no torch, not under CI) */
  skip: boolean;
}

const found = findTorchPython();
/** set by torch-skip-summary.ts in the vitest main process; the test forks inherit it */
export const SKIP_LOG_ENV = 'CXR_SSL_TORCH_SKIP_LOG';

const underCi = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

export function torchTests(suite: string): TorchTests {
  if (!('error' in found)) return { python: found.path, skip: false };
  if (underCi()) throw new Error(`${suite}: CI must run the torch engine's tests, and no Python with torch was found (${found.error}); set CXR_SSL_PYTHON`);
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(log, `${suite}\t${found.error}\n`);
  else console.warn(`torch engine tests SKIPPED (${found.error}): ${suite}`);
  return { skip: true };
}

/** The guard in findTorchPython's shape, for suites that read `python.path` or `'error' in python`. */
export function torchPythonForTests(suite: string): ReturnType<typeof findTorchPython> {
  torchTests(suite);
  return found;
}
