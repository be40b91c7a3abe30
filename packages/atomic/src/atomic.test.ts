import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'cxr-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file whole, from bytes or text, leaving no temporary file', () => {
    const path = join(dir, 'a.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, '{"new":1}');
    expect(readFileSync(path, 'utf8')).toBe('{"new":1}');
    writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });
  it('a write that cannot happen names the path and keeps the cause', () => {
    const path = join(dir, 'missing-folder', 'b.json');
    expect(() => writeFileAtomic(path, 'x')).toThrow(new RegExp(`cannot write ${path}: ENOENT`));
  });
  it('a failed rename removes its temporary file and leaves the old content', () => {
    const target = join(dir, 'is-a-folder');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target); // a folder where the file should go: rename fails after the temp file was written
    expect(() => writeFileAtomic(target, 'x')).toThrow(/cannot write .*is-a-folder: /);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
