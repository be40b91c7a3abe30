import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFiles } from '../cache/format.ts';
import { openCache } from '../cache/read.ts';
import { prepare } from '../prepare.ts';
import { fixtureDir } from '../testing/index.ts';

/**
 * A cache is reused only when it is provably the one asked for (version, options hash, source
 * hashes); anything else is an error naming the file and --force, and --force rebuilds it even
 * when it cannot be parsed. A cache cut short is never read as complete.
 * (cache.test.ts covers: other options, in-process aborts, a truncated .u8.)
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-cachefault-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// a small real set: the 8 first train X-rays of each class
const root = join(tmp, 'src');
beforeAll(() => {
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    mkdirSync(join(root, 'train', cls), { recursive: true });
    const from = join(fixtureDir(), 'train', cls);
    cpSync(from, join(root, 'train', cls), { recursive: true, filter: (p) => p === from || /-000[1-4]|_\d{1,3}\.png$|bacteria_29/.test(p) });
  }
});
const opts = (cacheDir: string, over = {}) => ({ adapter: 'folder', root, sizes: [32], cacheDir, name: 'fx', workers: 0, ...over });
const stripCreated = (s: string) => s.replace(/"created":"[^"]+"/, '');

describe('a cache written by another version or from other sources', () => {
  it('another cache version: reading and preparing name the file and --force; --force rebuilds the same bytes', async () => {
    const dir = join(tmp, 'version');
    const first = await prepare(opts(dir));
    expect(first.total).toBeGreaterThanOrEqual(8);
    const f = cacheFiles(dir, 'fx', 32);
    const good = { u8: readFileSync(f.u8), json: readFileSync(f.json, 'utf8') };
    const future = good.json.replace(/"version":\d+/, '"version":999'); // a version this code does not know
    expect(future).not.toBe(good.json);
    writeFileSync(f.json, future);
    expect(() => openCache(dir, 'fx', 32)).toThrow(/fx-32\.json is not a valid dataset cache manifest \(version: .*\): prepare the data set again \(--force\)/);
    await expect(prepare(opts(dir))).rejects.toThrow(/fx-32\.json is not a valid dataset cache manifest.*--force/);
    expect(readFileSync(f.u8).equals(good.u8)).toBe(true); // refused, not touched
    const rebuilt = await prepare(opts(dir, { overwrite: true }));
    expect(rebuilt.sizes[0].status).toBe('written');
    expect(readFileSync(f.u8).equals(good.u8)).toBe(true);
    expect(stripCreated(readFileSync(f.json, 'utf8'))).toBe(stripCreated(good.json));
  });

  it('an edited source image is detected by its hash and never silently reused', async () => {
    const dir = join(tmp, 'edited');
    await prepare(opts(dir));
    const one = join(root, 'train', 'NORMAL', 'IM-0115-0001.png');
    const later = new Date(Date.now() + 60_000);
    utimesSync(one, later, later); // same bytes, new mtime: what a re-export looks like to stat
    await expect(prepare(opts(dir))).rejects.toThrow(/fx-32\.json was prepared with other or changed source images: pass overwrite \(--force\)/);
    expect((await prepare(opts(dir, { overwrite: true }))).sizes[0].status).toBe('written');
  });

  it('a garbage progress file of an interrupted run is an error naming it; --force starts over', async () => {
    const dir = join(tmp, 'garbage');
    mkdirSync(dir);
    const f = cacheFiles(dir, 'fx', 32);
    writeFileSync(f.progress, '{"version":0,"size":32');
    writeFileSync(f.partial, Buffer.alloc(5000, 7));
    await expect(prepare(opts(dir))).rejects.toThrow(/fx-32\.progress\.json is not valid JSON .*delete it and prepare the data set again/);
    const s = await prepare(opts(dir, { overwrite: true }));
    expect(s.sizes[0]).toMatchObject({ status: 'written', resumedFrom: 0 });
    expect(existsSync(f.progress) || existsSync(f.partial)).toBe(false);
  });
});

describe('a cache cut short is resumed or rebuilt, never read as complete', () => {
  it('killed between moving the .u8 into place and writing its manifest: not readable, then finished by a rerun', async () => {
    const clean = join(tmp, 'clean');
    await prepare(opts(clean));
    // reproduce the state on disk: progress file of the finished run + final .u8, no manifest yet
    const dir = join(tmp, 'between');
    await prepare({ ...opts(dir), checkpointEvery: 1, signal: AbortSignal.abort() }).catch(() => {});
    const f = cacheFiles(dir, 'fx', 32);
    expect(existsSync(f.progress)).toBe(true);
    const p = JSON.parse(readFileSync(f.progress, 'utf8'));
    const cf = cacheFiles(clean, 'fx', 32);
    const rows = readFileSync(cf.u8);
    writeFileSync(f.progress, JSON.stringify({ ...p, processed: rows.length / 1024, rows: rows.length / 1024 }));
    writeFileSync(f.u8, rows);
    rmSync(f.partial, { force: true });
    expect(() => openCache(dir, 'fx', 32)).toThrow(/no dataset cache .*fx-32\.json \(an interrupted prepare: rerun it to finish\)/);
    const s = await prepare(opts(dir));
    expect(s.sizes[0]).toMatchObject({ status: 'resumed' });
    expect(readFileSync(f.u8).equals(rows)).toBe(true);
    expect(stripCreated(readFileSync(f.json, 'utf8'))).toBe(stripCreated(readFileSync(cf.json, 'utf8')));
  });

  it('a manifest whose .u8 went missing is rebuilt, not trusted', async () => {
    const dir = join(tmp, 'lost');
    await prepare(opts(dir));
    const f = cacheFiles(dir, 'fx', 32);
    const before = readFileSync(f.u8);
    renameSync(f.u8, `${f.u8}.moved`);
    expect(() => openCache(dir, 'fx', 32)).toThrow(/fx-32\.u8 is missing although its manifest .*fx-32\.json is there: run `cxr-ssl prepare --name fx --sizes 32` again/);
    const s = await prepare(opts(dir));
    expect(s.sizes[0].status).toBe('written');
    expect(readFileSync(f.u8).equals(before)).toBe(true);
  });
});
