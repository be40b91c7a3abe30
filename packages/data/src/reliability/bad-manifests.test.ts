import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../adapters/index.ts';
import { readNihMetadata } from '../nih-metadata.ts';
import { fixtureDir } from '../testing/index.ts';

/**
 * Manifest shapes met in the wild, each accepted as meant or reported with file:line.
 * (adapters.test.ts / nih.test.ts cover: missing column, empty path, bad split, duplicates,
 * unknown NIH findings, 'No Finding' with findings, bad Patient ID.)
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fx = fixtureDir();
const csvOpts = ADAPTERS.csv.options.parse({});

function writeCsv(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('csv manifests', () => {
  it('BOM, CRLF, extra columns and quoted fields holding commas are read as meant', async () => {
    const p = writeCsv(
      'wild.csv',
      '\uFEFFpath,label,split,notes,patient\r\n' +
        `${fx}/train/NORMAL/IM-0115-0001.png,NORMAL,train,"seen by Dr. A, twice",p1\r\n` +
        `"${fx}/train/PNEUMONIA/person1000_bacteria_2931.png","PNEUMONIA",test,"a ""quoted"" note, with comma",p2\r\n`,
    );
    const { entries, problems } = await ADAPTERS.csv.scan(p, csvOpts);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.id.split('/').pop(), e.label, e.split, e.patient])).toEqual([
      ['IM-0115-0001.png', 0, 'train', 'p1'],
      ['person1000_bacteria_2931.png', 1, 'test', 'p2'],
    ]);
  });

  it('an unquoted comma (shifted columns), a numeric label other than 0/1 and a duplicate id are row problems with line numbers', async () => {
    const p = writeCsv(
      'shifted.csv',
      [
        'path,label,split',
        `${fx}/train/NORMAL/IM-0115-0001.png,0,train`,
        `${fx}/train/NORMAL/IM-0117-0001.png,NORMAL,train,extra`, // 4 fields: would shift label/split
        `${fx}/train/NORMAL/IM-0119-0001.png,2,train`,
        `${fx}/train/NORMAL/IM-0122-0001.png,-1,train`,
        `${fx}/train/NORMAL/IM-0115-0001.png,1,test`,
      ].join('\n'),
    );
    const { entries, problems } = await ADAPTERS.csv.scan(p, csvOpts);
    expect(entries).toHaveLength(1);
    expect(problems.map((x) => x.where)).toEqual([3, 4, 5, 6].map((l) => `${p}:${l}`));
    expect(problems[0].message).toMatch(/4 fields, the header has 3: quote fields that contain commas/);
    expect(problems[1].message).toMatch(/label: a numeric label must be 0 \(normal\) or 1 \(abnormal\)/);
    expect(problems[2].message).toMatch(/numeric label/);
    expect(problems[3].message).toMatch(/duplicate image/);
  });

  it('a manifest with only a header, or only bad rows, is an error naming the file and the first problems', async () => {
    await expect(ADAPTERS.csv.scan(writeCsv('empty.csv', 'path,label\n'), csvOpts)).rejects.toThrow(/empty\.csv:1: lists no usable images$/);
    const bad = writeCsv('allbad.csv', 'path,label\n,1\nx.png,7\n');
    await expect(ADAPTERS.csv.scan(bad, csvOpts)).rejects.toThrow(/allbad\.csv:1: lists no usable images \(2 problems; .*allbad\.csv:2: path: empty path.*allbad\.csv:3: label: a numeric label/);
  });
});

describe('NIH metadata (real excerpt: 40 rows, 30 train_val + 10 test)', () => {
  const excerpt = join(import.meta.dirname, 'fixtures', 'nih-excerpt');
  const copy = (name: string) => {
    const dir = join(tmp, name);
    cpSync(excerpt, dir, { recursive: true });
    return dir;
  };

  it('reads the excerpt without problems', async () => {
    const m = await readNihMetadata(excerpt);
    expect(m.problems).toEqual([]);
    expect([m.records.filter((r) => r.split === 'train').length, m.records.filter((r) => r.split === 'test').length]).toEqual([30, 10]);
  });

  it('split-list names without a CSV row, and CSV rows in no list, are reported', async () => {
    const dir = copy('orphans');
    const list = join(dir, 'train_val_list.txt');
    const names = readFileSync(list, 'utf8').trim().split('\n');
    writeFileSync(list, [...names.slice(1), '99999999_000.png', '99999999_001.png'].join('\n'));
    const m = await readNihMetadata(dir);
    expect(m.records).toHaveLength(39);
    expect(m.problems.map((p) => p.message)).toEqual([
      `${names[0]} is in neither train_val_list.txt nor test_list.txt: skipped`,
      expect.stringMatching(/^2 images of the split lists have no row in .*Data_Entry_2017_v2020\.csv \(first: 99999999_000\.png, 99999999_001\.png\): skipped/),
    ]);
    expect(m.problems[0].where).toMatch(/Data_Entry_2017_v2020\.csv:\d+$/);
  });

  it('an empty split list is reported as such, not as 10 unrelated rows only', async () => {
    const dir = copy('empty-test');
    writeFileSync(join(dir, 'test_list.txt'), '\uFEFF\r\n');
    const m = await readNihMetadata(dir);
    expect(m.records.every((r) => r.split === 'train')).toBe(true);
    expect(m.problems[0]).toEqual({ where: `${join(dir, 'test_list.txt')}:1`, message: 'the list is empty: no image goes to test; re-download it' });
    expect(m.problems.filter((p) => /in neither/.test(p.message))).toHaveLength(10);
  });

  it('an image in both lists is kept once, in the first, and reported', async () => {
    const dir = copy('both');
    const test = readFileSync(join(dir, 'test_list.txt'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'train_val_list.txt'), `${readFileSync(join(dir, 'train_val_list.txt'), 'utf8').trim()}\n${test[0]}\n`);
    const m = await readNihMetadata(dir);
    expect(m.records.filter((r) => r.image === test[0]).map((r) => r.split)).toEqual(['train']);
    expect(m.problems.map((p) => p.message)).toContain(`${test[0]} is in both split lists: kept in train`);
  });
});
