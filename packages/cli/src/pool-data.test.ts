import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutText } from './commands/pretext.ts';
import { UsageError } from './config-file.ts';
import { PretextOptions } from './pretext-options.ts';
import { pooledTrainImages } from './pool-data.ts';

let tmp: string;
let cacheDir: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-pool-cli-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [48], cacheDir, name: 'fz', workers: 0 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const parse = (data: unknown) => PretextOptions.safeParse({ method: 'rotation', data });

describe('--data of a pretext run: one set, or several pooled', () => {
  it('one set is the run as before; several are named together and listed with their weights', () => {
    expect(parse(undefined).data).toMatchObject({ data: 'kermany-mini', pool: undefined }); // the one default
    expect(parse('kermany,kermany-mini').data).toMatchObject({ data: 'kermany+kermany-mini', pool: [{ name: 'kermany' }, { name: 'kermany-mini' }] });
    expect(parse('kermany:3,kermany-mini:1').data?.pool).toEqual([
      { name: 'kermany', weight: 3 },
      { name: 'kermany-mini', weight: 1 },
    ]);
    // a config's data: as a list of names or of { name, weight }
    expect(parse(['a', { name: 'b', weight: 0.5 }]).data?.pool).toEqual([{ name: 'a' }, { name: 'b', weight: 0.5 }]);
  });

  it('refuses paths, a set named twice, a lone weight and a zero weight, saying what to give', () => {
    expect(String(parse('../x').error)).toMatch(/'\.\.\/x': give prepared set names/);
    expect(String(parse('a,a').error)).toMatch(/'a' is named twice/);
    expect(String(parse('a:2').error)).toMatch(/give two or more sets/);
    expect(String(parse('a:0,b').error)).toMatch(/above 0/);
  });

  it('refuses sets prepared at different sizes, naming both sets and sizes', async () => {
    const err = await pooledTrainImages({ cacheDir, size: 32, quiet: true }, [{ name: 'fx' }, { name: 'fz' }]).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/fx is prepared at 32 px, fz at 48 px only.*prepare fz at 32 px/);
    expect(await pooledTrainImages({ cacheDir, size: 32, quiet: true }, [{ name: 'fx' }])).toBeGreaterThan(50);
  });
});

describe("a pooled run's held-out line", () => {
  it("lists each set's top-1 before the run's chance (metrics.jsonl's valBySource)", () => {
    const set = (accuracy: number) => ({ loss: 1, accuracy, samples: 40, chance: 0.25 });
    const line = { step: 6, epoch: 1, valLoss: 1.2, valAccuracy: 0.5, valChance: 0.25, valSpread: 0.8, valRank: 3.2 };
    expect(heldOutText({ ...line, valBySource: { fx: set(0.4), fy: set(0.6) } })).toBe('held-out at step 6: loss 1.2000, top-1 0.500 (fx 0.400, fy 0.600, chance 0.250), spread 0.80, rank 3.2');
    expect(heldOutText(line)).toBe('held-out at step 6: loss 1.2000, top-1 0.500 (chance 0.250), spread 0.80, rank 3.2'); // one set: as before
  });
});

describe("a reproduce config's data: one set, or a list pooled by its pretext runs", () => {
  it('reads one block as a list of one, and a list with optional weights; refuses a zero weight', async () => {
    const { ReproduceConfig } = await import('./commands/reproduce.ts');
    const one = ReproduceConfig.parse({ data: { source: 'x', name: 'x' }, inits: ['rotation'] });
    expect(one.data.map((d) => d.name)).toEqual(['x']);
    const two = ReproduceConfig.parse({ data: [{ source: 'k', name: 'kermany' }, { source: 'm', name: 'mine', weight: 2 }], inits: ['rotation'] });
    expect(two.data.map((d) => [d.name, 'weight' in d ? d.weight : undefined])).toEqual([['kermany', undefined], ['mine', 2]]);
    expect(ReproduceConfig.safeParse({ data: [{ source: 'k', name: 'k', weight: 0 }], inits: ['rotation'] }).success).toBe(false);
  });
});
