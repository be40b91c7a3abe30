import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PrepareError, prepare } from '../prepare.ts';
import { fixtureDir } from '../testing/index.ts';

/**
 * What a CSV manifest may point at besides image files, on the fixture X-rays: a named pipe is
 * skipped with its reason (reading one blocks for ever), and one X-ray listed under two paths (a
 * symlink, with two labels) is reported by its pixels, and refused by --strict when the two copies
 * land in different splits (a leak between train and test).
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-sources-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fx = fixtureDir();
const normal = join(fx, 'train', 'NORMAL', 'IM-0115-0001.png');
const pneumonia = join(fx, 'test', 'PNEUMONIA', 'person100_bacteria_475.png');
const other = join(fx, 'train', 'NORMAL', 'IM-0117-0001.png');

function csv(name: string, rows: string[]): string {
  const p = join(tmp, name);
  writeFileSync(p, ['path,label,split', ...rows].join('\n'));
  return p;
}

describe('a named pipe in a CSV manifest', () => {
  it('is skipped with its reason and prepare finishes (it used to hang for ever)', async () => {
    const fifo = join(tmp, 'pipe.png');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const root = csv('fifo.csv', [`${normal},NORMAL,train`, `${fifo},NORMAL,train`, `${pneumonia},PNEUMONIA,test`]);
    const s = await prepare({ adapter: 'csv', root, sizes: [32], cacheDir: join(tmp, 'c-fifo'), name: 'fifo', workers: 0, valFraction: 0 });
    expect(s.total).toBe(2);
    expect(s.bad).toEqual([{ id: fifo, source: fifo, reason: 'not a regular file (a named pipe): skipped. List image files only' }]);
  }, 30_000);
});

describe('one X-ray under two paths', () => {
  const link = join(tmp, 'same-xray.png');
  symlinkSync(normal, link);

  it('is reported with both ids, splits and labels (kept without --strict)', async () => {
    const root = csv('twice.csv', [`${normal},NORMAL,train`, `${link},PNEUMONIA,test`, `${other},NORMAL,train`, `${pneumonia},PNEUMONIA,test`]);
    const s = await prepare({ adapter: 'csv', root, sizes: [32, 64], cacheDir: join(tmp, 'c-twice'), name: 'twice', workers: 0, valFraction: 0 });
    expect(s.total).toBe(4);
    expect(s.duplicates).toEqual([{ ids: [normal, link], splits: ['train', 'test'], labels: [0, 1] }]);
  });

  it('--strict refuses it when the copies are in different splits, naming both and what to do', async () => {
    const root = csv('leak.csv', [`${normal},NORMAL,train`, `${link},PNEUMONIA,test`, `${pneumonia},PNEUMONIA,test`]);
    const err = await prepare({ adapter: 'csv', root, sizes: [32], cacheDir: join(tmp, 'c-leak'), name: 'leak', workers: 0, valFraction: 0, strict: true }).catch((e) => e);
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toContain('--strict: 1 X-ray is in more than one split under different paths (the same pixels: a leak between train and test)');
    expect(err.message).toContain(`${normal} (train, label 0) = ${link} (test, label 1)`);
    expect(err.message).toMatch(/List each X-ray once .*rerun with --force; or rerun without --strict/);
  });

  it('--strict lets the same pixels in one split pass (no leak), still reporting them', async () => {
    const root = csv('same-split.csv', [`${normal},NORMAL,train`, `${link},NORMAL,train`, `${pneumonia},PNEUMONIA,test`]);
    const s = await prepare({ adapter: 'csv', root, sizes: [32], cacheDir: join(tmp, 'c-same'), name: 'same', workers: 0, valFraction: 0, strict: true });
    expect(s.duplicates).toEqual([{ ids: [normal, link], splits: ['train', 'train'], labels: [0, 0] }]);
  });
});
