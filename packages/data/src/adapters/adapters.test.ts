import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir, sharedDataDir } from '../testing/index.ts';
import { ADAPTERS, getAdapter } from './index.ts';
import { patientFromName } from './patient.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-adapters-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('folder adapter', () => {
  it('scans the fixture: splits, labels, patients', async () => {
    const { entries, problems } = await ADAPTERS.folder.scan(fixtureDir(), ADAPTERS.folder.options.parse({}));
    expect(problems).toEqual([]);
    expect(entries).toHaveLength(96);
    const count = (split: string, label: number) => entries.filter((e) => e.split === split && e.label === label).length;
    expect([count('train', 0), count('train', 1), count('test', 0), count('test', 1)]).toEqual([32, 32, 16, 16]);
    const e = entries.find((x) => x.id === 'train/PNEUMONIA/person1000_bacteria_2931.png');
    expect(e).toMatchObject({ label: 1, class: 'bacteria', split: 'train', patient: 'person1000' });
    expect(e?.findings).toBeUndefined();
    const n = entries.find((x) => x.id === 'test/NORMAL/IM-0011-0001-0002.png');
    expect(n).toMatchObject({ label: 0, class: 'NORMAL', split: 'test', patient: 'IM-0011', path: join(fixtureDir(), 'test/NORMAL/IM-0011-0001-0002.png') });
    // Kermany's three classes, from the file names inside PNEUMONIA
    const classes = (split: string) => ['NORMAL', 'bacteria', 'virus'].map((c) => entries.filter((x) => x.split === split && x.class === c).length);
    expect(classes('train')).toEqual([32, 17, 15]);
    expect(classes('test')).toEqual([16, 16, 0]);
    expect(new Set(entries.map((x) => x.id)).size).toBe(96);
  });

  it('scans a class-only layout, with configurable normal class', async () => {
    const { entries } = await ADAPTERS.folder.scan(
      join(fixtureDir(), 'test'),
      ADAPTERS.folder.options.parse({ normalClasses: ['PNEUMONIA'], patientPattern: null }),
    );
    expect(entries).toHaveLength(32);
    expect(entries.every((e) => e.split === undefined && e.patient === undefined)).toBe(true);
    expect(entries.filter((e) => e.label === 0).every((e) => e.id.startsWith('PNEUMONIA/'))).toBe(true);
    // a normal class keeps its folder's name whatever the file is called; without a class pattern every class is its folder's
    expect(new Set(entries.map((e) => e.class))).toEqual(new Set(['PNEUMONIA', 'NORMAL']));
  });

  it('fails clearly on an empty folder', async () => {
    await expect(ADAPTERS.folder.scan(tmp, ADAPTERS.folder.options.parse({}))).rejects.toThrow(/no images under/);
  });
});

describe('csv adapter', () => {
  /** A CSV manifest of `lines` in the test folder; its path. */
  const manifest = (name: string, lines: string[]) => {
    const path = join(tmp, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };

  it('reads a manifest relative to the CSV, reporting bad rows with line numbers', async () => {
    const fx = fixtureDir();
    const csvPath = manifest('list.csv', [
      'path,label,split,patient',
      `${fx}/train/NORMAL/IM-0115-0001.png,0,train,p1`,
      `${fx}/train/PNEUMONIA/person1000_bacteria_2931.png,PNEUMONIA,,`,
      `${fx}/test/NORMAL/IM-0001-0001.png,NORMAL,validation,p3`,
      `,1,train,p4`,
      `${fx}/test/NORMAL/IM-0003-0001.png,1,holdout,p5`,
      `${fx}/train/NORMAL/IM-0115-0001.png,0,train,p1`,
    ]);
    const { entries, problems } = await getAdapter('csv').scan(csvPath, ADAPTERS.csv.options.parse({}));
    expect(entries.map((e) => [e.label, e.split, e.patient, e.class])).toEqual([
      [0, 'train', 'p1', undefined],
      [1, undefined, 'person1000', 'bacteria'],
      [0, 'val', 'p3', 'NORMAL'],
    ]);
    expect(entries.every((e) => e.findings === undefined)).toBe(true);
    expect(problems.map((p) => p.where)).toEqual([`${csvPath}:5`, `${csvPath}:6`, `${csvPath}:7`]);
    expect(problems[0].message).toMatch(/path: empty path/);
    expect(problems[1].message).toMatch(/split/);
    expect(problems[2].message).toMatch(/duplicate/);
  });

  it("keeps a class column and '|'-separated findings (an empty cell or 'No Finding' is none)", async () => {
    const fx = fixtureDir();
    const csvPath = manifest('multi.csv', [
      'path,label,class,findings',
      `${fx}/train/NORMAL/IM-0115-0001.png,0,NORMAL,No Finding`,
      `${fx}/train/PNEUMONIA/person1000_bacteria_2931.png,1,bacterial,Pneumonia|Infiltration|Pneumonia`,
      `${fx}/train/PNEUMONIA/person1000_virus_1681.png,1,viral,`,
    ]);
    const { entries, problems } = await ADAPTERS.csv.scan(csvPath, ADAPTERS.csv.options.parse({}));
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.class, e.findings])).toEqual([
      ['NORMAL', []],
      ['bacterial', ['Infiltration', 'Pneumonia']],
      ['viral', []],
    ]);
  });

  it('names the missing column', async () => {
    const p = join(tmp, 'bad.csv');
    writeFileSync(p, 'file,label\na.png,0\n');
    await expect(ADAPTERS.csv.scan(p, ADAPTERS.csv.options.parse({}))).rejects.toThrow(/no 'path' column \(found: file, label\)/);
  });

  it('never prints the first line of a file that is not a manifest (e.g. --source /etc/passwd)', async () => {
    const p = join(tmp, 'passwd');
    const secret = 'root:x:0:0:root:/root:/bin/bash';
    writeFileSync(p, `${secret}\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n`);
    const err = await ADAPTERS.csv.scan(p, ADAPTERS.csv.options.parse({})).then(() => undefined, (e: Error) => e.message);
    expect(err).toMatch(/no 'path' column \(its first line is not a row of column names: is .*passwd a CSV manifest\?\)/);
    expect(err).not.toContain('root:x');
  });

  const kermany = sharedDataDir() && join(sharedDataDir()!, 'kermany-pneumonia-224');
  describe.skipIf(!kermany)('on ../shared/data/kermany-pneumonia-224 (skipped: shared data absent)', () => {
    it('reads labels.csv with class-name labels', async () => {
      const { entries, problems } = await ADAPTERS.csv.scan(kermany!, ADAPTERS.csv.options.parse({}));
      expect(problems).toEqual([]);
      expect(entries.filter((e) => e.split === 'train').length).toBe(5216);
      expect(entries.filter((e) => e.split === 'test' && e.label === 0).length).toBe(234);
      // the three classes: the file names say bacteria or virus (SOURCE.md: 2,772 bacterial and 1,493 viral files)
      const count = (c: string) => entries.filter((e) => e.class === c).length;
      expect([count('NORMAL'), count('bacteria'), count('virus')]).toEqual([1575, 2772, 1493]);
    });
  });
});

describe('patientFromName', () => {
  it('knows the Kermany names', () => {
    const p = ADAPTERS.folder.options.parse({}).patientPattern!;
    expect(patientFromName('person1000_bacteria_2931', p)).toBe('person1000');
    expect(patientFromName('IM-0011-0001-0002', p)).toBe('IM-0011');
    expect(patientFromName('NORMAL2-IM-1427-0001', p)).toBe('NORMAL2-IM-1427');
    expect(patientFromName('00000001_000', p)).toBeUndefined();
  });
});
