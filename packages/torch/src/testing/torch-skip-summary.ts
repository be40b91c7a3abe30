import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SKIP_LOG_ENV } from './torch-guard.ts';

/** vitest globalSetup: the suites torch-guard.ts skipped in this run, as one line at its end. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'cxr-torch-skips-'));
  const log = join(dir, 'skipped.tsv');
  process.env[SKIP_LOG_ENV] = log;
  return () => {
    if (existsSync(log)) {
      const rows = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split('\t'));
      console.warn(`torch engine tests SKIPPED (${rows[0][1]}): ${[...new Set(rows.map((r) => r[0]))].join('; ')}`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
