import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir } from '@cxr-ssl/data/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * Every dropped row is visible: a CSV manifest of real fixture X-rays with one row of each kind
 * that prepare skips. Counted on stderr with examples; --strict refuses before decoding anything.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-dropped-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const images = (cls: string) => readdirSync(join(fixtureDir(), 'train', cls)).map((f) => join(fixtureDir(), 'train', cls, f));
const normal = images('NORMAL');
const pneumonia = images('PNEUMONIA');
const good = [...normal.slice(0, 12).map((p) => `${p},NORMAL,train`), ...pneumonia.slice(0, 12).map((p) => `${p},PNEUMONIA,train`)];
const csv = join(tmp, 'manifest.csv');
writeFileSync(
  csv,
  [
    'path,label,split',
    ...good,
    `${normal[20]},NORMAL,holdout`, // unknown split
    `${normal[21]},2,train`, // label outside the classes (0/1 or a class name)
    `${normal[22]},,train`, // empty label
    `${normal[0]},PNEUMONIA,train`, // the same image again with another label
  ].join('\n'),
);
const prepare = (...extra: string[]) => runCli(tmp, ['prepare', '--source', csv, '--name', 'm', '--sizes', '32', '--cache-dir', 'cache', '--workers', '0', '--quiet', ...extra]);

describe('dropped CSV rows', () => {
  it('are counted on stderr by kind, with the row of each', () => {
    const r = prepare();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^4 entries of the source were dropped \(--strict makes this an error\):/);
    expect(r.err).toMatch(new RegExp(`1 × unknown split, e\\.g\\. .*manifest\\.csv:${good.length + 2}: split: `));
    expect(r.err).toMatch(/1 × label outside the classes, e\.g\. .*manifest\.csv:\d+: label: a numeric label must be 0/);
    expect(r.err).toMatch(/1 × empty label, e\.g\. .*manifest\.csv:\d+: label: empty label/);
    expect(r.err).toMatch(/1 × duplicate path with another label, e\.g\. .*labelled PNEUMONIA here and NORMAL on an earlier row/);
    expect(JSON.parse(r.out).total).toBe(good.length);
  });

  it('--strict fails on any of them before decoding, naming each kind', () => {
    const r = runCli(tmp, ['prepare', '--source', csv, '--name', 'strict', '--sizes', '32', '--cache-dir', 'cache', '--workers', '0', '--quiet', '--strict']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--strict: 4 entries of .*manifest\.csv would be dropped:\n {2}1 × unknown split/);
    expect(r.err).toMatch(/duplicate path with another label/);
    expect(existsSync(join(tmp, 'cache', 'strict-32.json'))).toBe(false);
  });
});
