import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadList, fixtureDir } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/** `prepare` exits non-zero only when nothing usable remains or with --strict (bad-images.test.ts has the details). */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-prepexit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const src = join(tmp, 'set', 'NORMAL');
beforeAll(() => {
  mkdirSync(src, { recursive: true });
  for (const f of ['IM-0115-0001.png', 'IM-0117-0001.png']) copyFileSync(join(fixtureDir(), 'train', 'NORMAL', f), join(src, f));
  writeFileSync(join(src, 'broken.png'), readFileSync(join(src, 'IM-0115-0001.png')).subarray(0, 500));
});

describe('cxr-ssl prepare with an unreadable image', () => {
  const base = ['prepare', '--source', join(tmp, 'set'), '--name', 'mixed', '--sizes', '32', '--workers', '0', '--quiet'];

  it('skips it and exits 0, saying where the list is', () => {
    const r = runCli(tmp, base);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^1 images could not be read: skipped, listed in .*cache\/mixed-32\.bad\.json \(--strict makes this an error\)\n$/);
    const bad = BadList.parse(JSON.parse(readFileSync(join(tmp, 'cache', 'mixed-32.bad.json'), 'utf8')));
    expect(bad.map((b) => b.id)).toEqual(['NORMAL/broken.png']);
    expect(JSON.parse(r.out).total).toBe(2);
  });

  it('--strict: exit 1, naming the file and what to do', () => {
    const r = runCli(tmp, [...base, '--cache-dir', 'strict-cache', '--strict']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cxr-ssl: 1 of 3 images could not be read \(--strict\); they are listed in .*strict-cache\/mixed-32\.bad\.json/);
    expect(r.err).toMatch(/broken\.png: cannot decode image/);
    expect(r.err).toMatch(/rerun without --strict to skip them/);
  });
});
