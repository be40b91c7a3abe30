import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFiles } from '../cache/format.ts';
import { openCache } from '../cache/read.ts';
import { prepare } from '../prepare.ts';
import { fixtureDir, mountTinyDisk } from '../testing/index.ts';

/**
 * A really full disk: a 1 MiB tmpfs (needs root and a kernel that lets us mount; skipped with a
 * message elsewhere). The fixture at 32 px (96 KiB) fits, at 128 px (1.5 MiB) it does not.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-diskfull-'));
const disk = join(tmp, 'disk');
mkdirSync(disk);
const unmount = mountTinyDisk(disk, '1m', 'disk-full test');
const mounted = unmount !== undefined;
afterAll(() => {
  unmount?.();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!mounted)('dataset cache on a full disk (1 MiB tmpfs)', () => {
  it('is refused before any pixel is written, naming the folder and the fix; the cache already there stays intact', async () => {
    const o = { adapter: 'folder', root: fixtureDir(), cacheDir: disk, name: 'fx', workers: 0 };
    await prepare({ ...o, sizes: [32] });
    const small = cacheFiles(disk, 'fx', 32);
    const before = { u8: readFileSync(small.u8), json: readFileSync(small.json, 'utf8') };
    const err = await prepare({ ...o, sizes: [128] }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    // the space check runs before decoding (an ENOSPC half-way is now the fallback of a disk that
    // fills up meanwhile; atomic writes keep that case safe too)
    expect(err.message).toMatch(/a cache of 96 images at 128 px needs \d+ MiB in .*disk, and \d+ MiB is free: prepare smaller --sizes, or free space there/);
    expect(existsSync(cacheFiles(disk, 'fx', 128).u8)).toBe(false);
    // no file handle left open on the full disk (the partial file is kept for the resume)
    const open = execFileSync('ls', ['-l', `/proc/${process.pid}/fd`], { encoding: 'utf8' });
    expect(open).not.toContain(disk);
    expect(readFileSync(small.u8).equals(before.u8)).toBe(true);
    expect(readFileSync(small.json, 'utf8')).toBe(before.json);
    expect(openCache(disk, 'fx', 32).count).toBe(96);
    expect(() => openCache(disk, 'fx', 128)).toThrow(/no dataset cache .*fx-128\.json: run `cxr-ssl prepare --name fx --sizes 128` first/);
  });
});
