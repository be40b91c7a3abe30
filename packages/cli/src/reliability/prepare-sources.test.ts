import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir } from '@cxr-ssl/data/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * `prepare` on a CSV manifest that lists a fixture X-ray twice (itself and a symlink, two labels, two
 * splits) and a named pipe: what the user reads on stderr, and --strict's refusal of the leak.
 * (data/src/reliability/source-files.test.ts: the same through prepare() in detail.)
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-prepsrc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prepare --source <csv> with a symlinked copy and a named pipe', () => {
  const xray = join(fixtureDir(), 'train', 'NORMAL', 'IM-0115-0001.png');
  const link = join(tmp, 'copy.png');
  const fifo = join(tmp, 'pipe.png');
  symlinkSync(xray, link);
  spawnSync('mkfifo', [fifo]);
  const rows = [`${xray},NORMAL,train`, `${link},PNEUMONIA,test`, `${fifo},NORMAL,train`, `${join(fixtureDir(), 'test', 'PNEUMONIA', 'person100_bacteria_475.png')},PNEUMONIA,test`];
  writeFileSync(join(tmp, 'twice.csv'), ['path,label,split', ...rows].join('\n'));
  const args = (cache: string, source = 'twice.csv') => ['prepare', '--source', source, '--sizes', '32', '--cache-dir', cache, '--workers', '0', '--quiet'];

  it('finishes, naming the pipe it skipped and the X-ray listed twice across splits', () => {
    const r = runCli(tmp, args('c1'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`1 X-ray is listed under more than one path (the same pixels), 1 of them in different splits: a leak between train and test (--strict refuses it), e.g.\n  ${xray} (train, label 0) = ${link} (test, label 1)\n`);
    expect(r.err).toMatch(/1 images could not be read: skipped, listed in .*twice-32\.bad\.json/);
    expect(JSON.parse(r.out).bad[0].reason).toBe('not a regular file (a named pipe): skipped. List image files only');
  }, 60_000);

  it('--strict refuses the leak (exit 1)', () => {
    writeFileSync(join(tmp, 'leak.csv'), ['path,label,split', ...rows.filter((r) => !r.startsWith(fifo))].join('\n'));
    const r = runCli(tmp, [...args('c2', 'leak.csv'), '--strict']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cxr-ssl: --strict: 1 X-ray is in more than one split under different paths \(the same pixels: a leak between train and test\)/);
  }, 60_000);
});
