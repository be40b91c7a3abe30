import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatasetCache, fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortcutProbe } from './shortcut-probe.ts';

// the fixture's real X-rays at 128 px: probe fitted on the 64 train images, scored on the 32 test images
let tmp: string;
let cache: DatasetCache;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-shortcut-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [128], cacheDir: tmp, name: 'fx', workers: 0, valFraction: 0 });
  cache = openCache(tmp, 'fx', 128);
});
afterAll(() => {
  cache.close();
  rmSync(tmp, { recursive: true, force: true });
});
const probe = (task: string, options: Record<string, unknown>) => shortcutProbe(cache, task, options, cache.indices('train'), cache.indices('test'), 4);

describe('shortcut probe', () => {
  it("reads the turn of an un-masked film from its borders, far above chance (the study's rotation)", () => {
    const r = probe('rotation', {});
    expect(r.chance).toBe(0.25);
    expect(r.samples).toBe(4 * cache.indices('test').length);
    expect(r.accuracy).toBeGreaterThan(0.6);
  });

  it('is at chance when a frame mask blanks every number it reads but the turn-invariant mean and sd', () => {
    const r = probe('rotation', { augment: [{ name: 'mask', shape: 'frame' }] });
    expect(Math.abs(r.accuracy - 0.25)).toBeLessThan(0.08);
  });

  it('is a pure function of the cache and options', () => {
    expect(probe('jigsaw', { permutations: 10 })).toEqual(probe('jigsaw', { permutations: 10 }));
  });
});
