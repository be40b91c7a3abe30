import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { prepare } from '../prepare.ts';
import { fixtureDir } from '../testing/index.ts';
import { BadList, cacheFiles } from './format.ts';
import { openCache } from './read.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function direct(path: string, size: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(path).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer());
}

const fixtureCache = join(tmp, 'fixture');

describe('dataset cache on the real fixture', () => {
  it('round-trips: every row equals a direct sharp decode, at two sizes written in one pass', async () => {
    const seen: number[] = [];
    const summary = await prepare({
      adapter: 'folder',
      root: fixtureDir(),
      sizes: [64, 32],
      cacheDir: fixtureCache,
      name: 'mini',
      workers: 2,
      onProgress: (done, total) => {
        expect(total).toBe(96);
        seen.push(done);
      },
    });
    expect(seen.at(-1)).toBe(96);
    expect(summary.sizes.map((s) => [s.size, s.status, s.count])).toEqual([
      [32, 'written', 96],
      [64, 'written', 96],
    ]);
    expect(summary.bad).toEqual([]);
    // the label structure kept: Kermany's three classes over the splits, no findings
    const total = (c: string) => Object.values(summary.labels.classes!).reduce((n, split) => n + (split[c] ?? 0), 0);
    expect([total('NORMAL'), total('bacteria'), total('virus')]).toEqual([48, 33, 15]);
    expect(summary.labels.classes!.test).toEqual({ NORMAL: 16, bacteria: 16 });
    expect(summary.labels.findings).toBeUndefined();
    const c = summary.counts;
    expect(c.test).toEqual({ normal: 16, abnormal: 16 });
    expect(c.train.normal + c.val.normal).toBe(32);
    expect(c.val.normal + c.val.abnormal).toBeGreaterThanOrEqual(6);
    for (const size of [32, 64]) {
      const cache = openCache(fixtureCache, 'mini', size);
      expect(cache.count).toBe(96);
      const all = [...cache.indices('train'), ...cache.indices('val'), ...cache.indices('test')].sort((a, b) => a - b);
      expect(all).toEqual([...Array(96).keys()]);
      for (let i = 0; i < cache.count; i++) {
        const e = cache.manifest.entries[i];
        expect(e.sourceHash).toMatch(/^\d+-\d+$/);
        expect(cache.image(i)).toEqual(await direct(join(fixtureDir(), e.source), size));
      }
      cache.close();
    }
  });

  it('reuses an up-to-date cache, refuses one made with other options unless overwrite', async () => {
    const again = await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: fixtureCache, name: 'mini', workers: 1 });
    expect(again.sizes[0].status).toBe('up-to-date');
    const other = { adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: fixtureCache, name: 'mini', workers: 1, valFraction: 0.3 };
    await expect(prepare(other)).rejects.toThrow(/mini-32\.json was prepared with other options: pass overwrite \(--force\)/);
    const rebuilt = await prepare({ ...other, overwrite: true });
    expect(rebuilt.sizes[0].status).toBe('written');
    expect(rebuilt.counts.val.normal + rebuilt.counts.val.abnormal).toBeGreaterThan(15);
  });

  it('reads positionally when the cache is too large to load whole, with the same pixels', () => {
    const whole = openCache(fixtureCache, 'mini', 64);
    const positional = openCache(fixtureCache, 'mini', 64, { wholeReadLimit: 0 });
    for (const i of [0, 17, 95]) expect(positional.image(i)).toEqual(whole.image(i));
    expect(() => positional.image(96)).toThrow(/out of range .*0\.\.95/);
    positional.close();
  });

  it('keeps each image\'s class; reads a version-1 cache (no class structure) and refuses to reuse it for a prepare without --force, naming the version', async () => {
    const v2 = openCache(fixtureCache, 'mini', 64);
    expect(v2.manifest.version).toBe(2);
    expect(new Set(v2.manifest.entries.map((e) => e.class))).toEqual(new Set(['NORMAL', 'bacteria', 'virus']));
    v2.close();
    const dir = join(tmp, 'v1');
    mkdirSync(dir);
    const src = cacheFiles(fixtureCache, 'mini', 64);
    const dst = cacheFiles(dir, 'mini', 64);
    copyFileSync(src.u8, dst.u8);
    // as cache version 1 wrote it: the folder's class in findings, no class
    const m = JSON.parse(readFileSync(src.json, 'utf8'));
    const v1 = { ...m, version: 1, entries: m.entries.map(({ class: _c, ...e }: { class: string; id: string }) => ({ ...e, findings: [e.id.split('/')[1]] })) };
    writeFileSync(dst.json, JSON.stringify(v1));
    const old = openCache(dir, 'mini', 64);
    expect(old.manifest.version).toBe(1);
    expect(old.image(5)).toEqual(openCache(fixtureCache, 'mini', 64).image(5));
    old.close();
    await expect(prepare({ adapter: 'folder', root: fixtureDir(), sizes: [64], cacheDir: dir, name: 'mini', workers: 1 })).rejects.toThrow(
      /mini-64\.json was prepared with cache version 1 \(this cxr-ssl writes 2: it keeps each image's class and findings\): pass overwrite \(--force\)/,
    );
  });

  it('rejects a damaged cache file with a clear message', () => {
    const dir = join(tmp, 'damaged');
    mkdirSync(dir);
    const src = cacheFiles(fixtureCache, 'mini', 32);
    const dst = cacheFiles(dir, 'mini', 32);
    copyFileSync(src.u8, dst.u8);
    copyFileSync(src.json, dst.json);
    truncateSync(dst.u8, 1000);
    expect(() => openCache(dir, 'mini', 32)).toThrow(/has 1000 bytes, expected 96 x 32 x 32 .*--force/);
    expect(() => openCache(dir, 'nothing', 32)).toThrow(/no dataset cache .*nothing-32\.json.*cxr-ssl prepare/);
  });
});

describe('resume after an interrupted write', () => {
  it('an interruption before the first checkpoint restarts and gives the bytes of an uninterrupted run', async () => {
    const dir = join(tmp, 'resume');
    const ac = new AbortController();
    const opts = { adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: dir, name: 'mini', workers: 1 };
    await expect(
      prepare({
        ...opts,
        signal: ac.signal,
        onProgress: (done) => {
          if (done >= 45) ac.abort();
        },
      }),
    ).rejects.toThrow(/aborted at image 4\d of 96: rerun to resume/);
    const f = cacheFiles(dir, 'mini', 32);
    expect(existsSync(f.json)).toBe(false);
    expect(existsSync(f.partial)).toBe(true);
    expect(() => openCache(dir, 'mini', 32)).toThrow(/interrupted prepare/);
    const starts: number[] = [];
    const summary = await prepare({ ...opts, onProgress: (done) => starts.push(done) });
    // checkpoints come every 256 images by default: none was due before the abort
    expect(summary.sizes[0].count).toBe(96);
    expect(readFileSync(f.u8)).toEqual(readFileSync(cacheFiles(fixtureCache, 'mini', 32).u8));
    expect(starts[0]).toBe(0);
  });

  it('resumes mid-way when a checkpoint was written', async () => {
    const { writeCache } = await import('./write.ts');
    const { ADAPTERS } = await import('../adapters/index.ts');
    const { carveValidation } = await import('../split.ts');
    const dir = join(tmp, 'resume2');
    const { entries } = await ADAPTERS.folder.scan(fixtureDir(), ADAPTERS.folder.options.parse({}));
    const base = { dir, name: 'mini', sizes: [32], entries: carveValidation(entries), root: fixtureDir(), workers: 2, checkpointEvery: 16 };
    const ac = new AbortController();
    await expect(writeCache({ ...base, signal: ac.signal, onProgress: (d) => d >= 40 && ac.abort() })).rejects.toThrow(/aborted/);
    const starts: number[] = [];
    const r = await writeCache({ ...base, onProgress: (d) => starts.push(d) });
    expect(starts[0]).toBe(32); // last checkpoint before the abort at 40
    expect(r.sizes[0]).toMatchObject({ status: 'resumed', resumedFrom: 32, count: 96 });
    const clean = await writeCache({ ...base, dir: join(tmp, 'clean2') });
    expect(readFileSync(cacheFiles(dir, 'mini', 32).u8)).toEqual(readFileSync(cacheFiles(join(tmp, 'clean2'), 'mini', 32).u8));
    expect(readFileSync(cacheFiles(dir, 'mini', 32).json, 'utf8').replace(/"created":"[^"]+"/, '')).toEqual(
      readFileSync(cacheFiles(join(tmp, 'clean2'), 'mini', 32).json, 'utf8').replace(/"created":"[^"]+"/, ''),
    );
    expect(clean.sizes[0].status).toBe('written');
  });
});

describe('bad images', () => {
  it('lists a zero-byte png and a text file named .png, skips them, keeps the rest', async () => {
    const root = join(tmp, 'badset');
    const cls = join(root, 'train', 'NORMAL');
    mkdirSync(cls, { recursive: true });
    const src = join(fixtureDir(), 'train', 'NORMAL');
    const good = ['IM-0115-0001.png', 'IM-0117-0001.png', 'IM-0119-0001.png', 'IM-0122-0001.png'];
    for (const g of good) copyFileSync(join(src, g), join(cls, g));
    writeFileSync(join(cls, 'IM-0118-0001.png'), '');
    writeFileSync(join(cls, 'IM-0120-0001.png'), 'not an image, just text\n');
    const summary = await prepare({ adapter: 'folder', root, sizes: [32], cacheDir: join(tmp, 'badcache'), name: 'bad', workers: 2, valFraction: 0 });
    expect(summary.total).toBe(4);
    expect(summary.bad.map((b) => b.id)).toEqual(['train/NORMAL/IM-0118-0001.png', 'train/NORMAL/IM-0120-0001.png']);
    for (const b of summary.bad) expect(b.reason).toMatch(/cannot decode image .*IM-01(18|20)-0001\.png/);
    const listed = BadList.parse(JSON.parse(readFileSync(cacheFiles(join(tmp, 'badcache'), 'bad', 32).bad, 'utf8')));
    expect(listed).toEqual(summary.bad);
    const cache = openCache(join(tmp, 'badcache'), 'bad', 32);
    expect(cache.manifest.entries.map((e) => e.id)).toEqual(good.map((g) => `train/NORMAL/${g}`));
    expect(cache.image(3)).toEqual(await direct(join(cls, good[3]), 32));
  });
});
