import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from '../cache/read.ts';
import { decodeGrey } from '../decode.ts';
import { NIH_FINDINGS, type NihRecord, parseNihCsv, readNihMetadata } from '../nih-metadata.ts';
import { prepare } from '../prepare.ts';
import { carveValidation } from '../split.ts';
import { fixtureDir, sharedDataDir } from '../testing/index.ts';
import type { Entry } from './types.ts';
import { nih, nihOptions } from './nih.ts';

const shared = sharedDataDir();
const metaDir = shared ? join(shared, 'nih-chestxray14-metadata') : '';
const samplesDir = shared ? join(shared, 'cxr-samples') : '';
const haveMeta = !!shared && readdirSync(shared).includes('nih-chestxray14-metadata');
const haveSamples = !!shared && readdirSync(shared).includes('cxr-samples');
const V2020 = 'Data_Entry_2017_v2020.csv';
const HEADER_2017 =
  'Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],';

function patientsPerSplit(items: { split?: string; patient?: string }[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const e of items) {
    const s = m.get(e.patient!) ?? new Set<string>();
    s.add(e.split!);
    m.set(e.patient!, s);
  }
  return m;
}

describe.skipIf(!haveMeta)(`NIH ChestX-ray14 metadata (needs ${metaDir || '<repo>/../shared/data/nih-chestxray14-metadata'})`, () => {
  let records: NihRecord[];
  beforeAll(async () => {
    const meta = await readNihMetadata(metaDir);
    expect(meta.problems).toEqual([]);
    expect(meta.csvFile.endsWith(V2020)).toBe(true);
    records = meta.records;
  });

  it('has the official counts: 112,120 images, 86,524 train_val / 25,596 test, No Finding 50,500 / 9,861', () => {
    expect(records.length).toBe(112_120);
    const count = (split: string, label?: 0 | 1) => records.filter((r) => r.split === split && (label === undefined || r.label === label)).length;
    expect([count('train'), count('test')]).toEqual([86_524, 25_596]);
    expect([count('train', 0), count('test', 0)]).toEqual([50_500, 9_861]);
    expect(new Set(records.map((r) => r.patient)).size).toBe(30_805);
  });

  it('keeps the 14 findings, none on normal images, and the patient matches the file name', () => {
    const seen = new Set(records.flatMap((r) => r.findings));
    expect([...seen].sort()).toEqual([...NIH_FINDINGS].sort());
    const wrongFindings = records.filter((r) => (r.findings.length === 0) !== (r.label === 0)).map((r) => r.image);
    const wrongPatient = records.filter((r) => Number(r.image.slice(0, 8)) !== Number(r.patient)).map((r) => r.image);
    expect(wrongFindings).toEqual([]);
    expect(wrongPatient).toEqual([]);
    const first = records.find((r) => r.image === '00000001_001.png');
    expect(first).toMatchObject({ label: 1, findings: ['Cardiomegaly', 'Emphysema'], patient: '1', split: 'train' });
  });

  it('no patient is in two splits: train_val vs test, and train/val/test after the val carve-out', () => {
    const official = patientsPerSplit(records);
    expect([...official.values()].filter((s) => s.size > 1).length).toBe(0);
    const entries: Entry[] = records.map((r) => ({ id: r.image, path: r.image, label: r.label, split: r.split, patient: r.patient }));
    const carved = carveValidation(entries, { fraction: 0.1, seed: 7 });
    const counts = { train: 0, val: 0, test: 0 };
    for (const e of carved) counts[e.split]++;
    expect(counts.test).toBe(25_596);
    expect(counts.train + counts.val).toBe(86_524);
    expect(Math.abs(counts.val / 86_524 - 0.1)).toBeLessThan(0.005);
    const after = patientsPerSplit(carved);
    expect(new Set([...after.values()].flatMap((s) => [...s])).size).toBe(3);
    expect([...after.values()].filter((s) => s.size > 1).length).toBe(0);
  });

  it('reads the 2017 header variant (split size columns, trailing empty column) with BOM, CRLF and quotes', () => {
    const lines = readFileSync(join(metaDir, V2020), 'utf8').split('\n').slice(0, 41);
    const v2020 = parseNihCsv(lines.join('\n'), 'v2020.csv');
    // 2017 style: its own header, a trailing comma on each line, CRLF, a BOM, quoted labels.
    const body = lines.slice(1).map((l) => {
      const c = l.split(',');
      c[1] = `"${c[1]}"`;
      return `${c.join(',')},`;
    });
    const text2017 = `\uFEFF${[HEADER_2017, ...body].join('\r\n')}\r\n`;
    const v2017 = parseNihCsv(text2017, 'Data_Entry_2017.csv');
    expect(v2017.problems).toEqual([]);
    expect(v2017.rows.length).toBe(40);
    expect(v2017.rows).toEqual(v2020.rows);
  });

  it('bad rows are problems with file:line, the rest is kept', () => {
    const text = [
      'Image Index,Finding Labels,Follow-up #,Patient ID',
      '00000001_000.png,Cardiomegaly,0,1',
      '00000002_000.png,Cardiomegally,0,2',
      '00000003_000.png,No Finding|Mass,0,3',
      '00000004_000.png,Mass,0,',
      '00000001_000.png,Cardiomegaly,0,1',
      '"00000005_000.png","Nodule|Mass",0,"5"',
    ].join('\n');
    const { rows, problems } = parseNihCsv(text, 'labels.csv');
    expect(rows.map((r) => [r.image, r.findings, r.patient])).toEqual([
      ['00000001_000.png', ['Cardiomegaly'], '1'],
      ['00000005_000.png', ['Mass', 'Nodule'], '5'],
    ]);
    expect(problems.map((p) => p.where)).toEqual(['labels.csv:3', 'labels.csv:4', 'labels.csv:5', 'labels.csv:6']);
    expect(problems[0].message).toMatch(/unknown finding 'Cardiomegally'/);
    expect(problems[1].message).toMatch(/'No Finding' together with findings/);
    expect(problems[2].message).toMatch(/Patient ID/);
    expect(problems[3].message).toMatch(/duplicate image '00000001_000.png'/);
    expect(() => parseNihCsv('Image,Labels\na.png,Mass\n', 'x.csv')).toThrow(/x\.csv:1: no 'Image Index', 'Finding Labels', 'Patient ID' column/);
  });
});

describe.skipIf(!haveMeta || !haveSamples)(`NIH adapter on a partial download (needs ${metaDir} and ${samplesDir})`, () => {
  let root: string;
  let testImage: string;
  /** rows of the excerpt of the real CSV the root holds: the first 3,000 + 00027426_000 */
  let listed: number;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cxr-nih-'));
    // An excerpt of the real metadata (parsing all 112,120 rows is done once, above), the split
    // lists cut to the same images, so the scan's file logic runs in well under a second.
    const [header, ...rows] = readFileSync(join(metaDir, V2020), 'utf8').split('\n').filter(Boolean);
    const kept = rows.filter((l, i) => i < 3000 || l.startsWith('00027426_000.png,'));
    listed = kept.length;
    writeFileSync(join(root, V2020), [header, ...kept].join('\n'));
    const names = new Set(kept.map((l) => l.split(',')[0]));
    for (const list of ['train_val_list.txt', 'test_list.txt']) {
      const official = readFileSync(join(metaDir, list), 'utf8').split(/\r?\n/);
      writeFileSync(join(root, list), official.filter((n) => names.has(n.trim())).join('\n'));
    }
    // The two real NIH images under their real names, as the first archive unpacks them ...
    mkdirSync(join(root, 'images_001', 'images'), { recursive: true });
    for (const f of ['00000001_000.png', '00027426_000.png']) copyFileSync(join(samplesDir, f), join(root, 'images_001', 'images', f));
    // ... and a real (fixture) X-ray under the first test-list name in a second archive folder.
    testImage = readFileSync(join(root, 'test_list.txt'), 'utf8').split('\n')[0].trim();
    mkdirSync(join(root, 'images_002', 'images'), { recursive: true });
    const normal = join(fixtureDir(), 'test', 'NORMAL');
    copyFileSync(join(normal, readdirSync(normal)[0]), join(root, 'images_002', 'images', testImage));
    writeFileSync(join(root, 'images_002', 'images', 'not-listed.png'), '');
  });
  afterAll(() => root && rmSync(root, { recursive: true, force: true }));

  it('without allowMissing: an error with the missing count, the first names and the flag to pass', async () => {
    await expect(nih.scan(root, nihOptions.parse({}))).rejects.toThrow(
      new RegExp(`${listed - 3} of ${listed} images listed in .*Data_Entry_2017_v2020\\.csv are not in .*\\(first: 00000001_001\\.png, .*allowMissing \\(--allow-missing\\) to prepare the 3 that are present`),
    );
  });

  it('with allowMissing: finds the present images with labels, findings, patient and split; reports the rest', async () => {
    const { entries, problems } = await nih.scan(root, nihOptions.parse({ allowMissing: true }));
    expect(entries.map(({ path, ...e }) => e)).toEqual([
      { id: '00000001_000.png', label: 1, findings: ['Cardiomegaly'], split: 'train', patient: '1' },
      { id: testImage, label: expect.any(Number), findings: expect.any(Array), split: 'test', patient: String(Number(testImage.slice(0, 8))) },
      { id: '00027426_000.png', label: 0, findings: [], split: 'train', patient: '27426' },
    ]);
    expect(entries[0].path).toBe(join(root, 'images_001', 'images', '00000001_000.png'));
    expect(entries[1].path).toBe(join(root, 'images_002', 'images', testImage));
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(new RegExp(`^${listed - 3} of ${listed} images listed .*\\(first: 00000001_001\\.png, 00000001_002\\.png, .*\\): skipped \\(allowMissing\\)$`)),
      '1 PNG files are not in the labels CSV or the split lists: ignored',
    ]);
    // what it found decodes as the X-rays they are
    const px = await decodeGrey(entries[0].path, 64);
    expect(new Set(px).size).toBeGreaterThan(50);
  });

  it('prepare({ adapter: "nih", allowMissing }) caches the 3 present images in their splits', async () => {
    const cacheDir = join(root, 'cache');
    const summary = await prepare({ adapter: 'nih', adapterOptions: { allowMissing: true }, root, sizes: [32], cacheDir, name: 'nih-partial', workers: 1 });
    expect(summary.total).toBe(3);
    expect(summary.bad).toEqual([]);
    expect(summary.counts.test.normal + summary.counts.test.abnormal).toBe(1);
    expect(summary.counts.train).toEqual({ normal: 1, abnormal: 1 });
    const cache = openCache(cacheDir, 'nih-partial', 32);
    try {
      const i = cache.manifest.entries.findIndex((e) => e.id === '00000001_000.png');
      expect(cache.manifest.entries[i]).toMatchObject({ label: 1, split: 'train', patient: '1' });
      expect(cache.image(i)).toEqual(await decodeGrey(join(samplesDir, '00000001_000.png'), 32));
    } finally {
      cache.close();
    }
  });

  it('reads a flat images/ folder and a metadata folder holding the 2017 CSV', async () => {
    const flat = mkdtempSync(join(tmpdir(), 'cxr-nih-flat-'));
    try {
      mkdirSync(join(flat, 'images'));
      copyFileSync(join(samplesDir, '00027426_000.png'), join(flat, 'images', '00027426_000.png'));
      // a 2017-style CSV in root itself, with just the rows of the lists we keep
      const csv = readFileSync(join(metaDir, V2020), 'utf8').split('\n');
      const rows = csv.filter((l) => /^0000000[12]_|^00027426_000/.test(l)).map((l) => `${l.trim()},`);
      writeFileSync(join(flat, 'Data_Entry_2017.csv'), [HEADER_2017, ...rows].join('\r\n'));
      const names = rows.map((l) => l.split(',')[0]);
      writeFileSync(join(flat, 'train_val_list.txt'), names.join('\n'));
      writeFileSync(join(flat, 'test_list.txt'), '');
      const { entries, problems } = await nih.scan(flat, nihOptions.parse({ allowMissing: true }));
      expect(entries.map((e) => [e.id, e.label, e.patient, e.split])).toEqual([['00027426_000.png', 0, '27426', 'train']]);
      expect(problems[0].message).toMatch(/^the list is empty: no image goes to test/); // this test leaves the test list empty
      expect(problems[1].message).toMatch(new RegExp(`^${names.length - 1} of ${names.length} images listed in .*Data_Entry_2017\\.csv`));
      await expect(nih.scan(join(flat, 'images'), nihOptions.parse({ metadataDir: flat }))).rejects.toThrow(/images listed in .* are not in .*images\/images or/);
    } finally {
      rmSync(flat, { recursive: true, force: true });
    }
  });

  it('without the metadata: an error saying which files and where', async () => {
    await expect(nih.scan(root, nihOptions.parse({ metadataDir: join(root, 'images_001') }))).rejects.toThrow(
      /no Data_Entry_2017_v2020\.csv or Data_Entry_2017\.csv in .*cxr-nih-.*images_001: .*metadataDir/,
    );
    expect(() => nihOptions.parse({ allowMisssing: true })).toThrow(/allowMisssing/);
  });
});

describe.skipIf(!haveMeta || !haveSamples)(`NIH adapter on ../shared/data/cxr-samples, its images in the folder itself (needs ${metaDir} and ${samplesDir})`, () => {
  it("reads the findings Data_Entry_2017 gives the two NIH images there, and prepare keeps them in the cache (version 2)", async () => {
    // one scan of the 112,120 rows, through prepare (SOURCE.md: 00000001_000 is Cardiomegaly, 00027426_000 No Finding)
    const cacheDir = mkdtempSync(join(tmpdir(), 'cxr-nih-samples-'));
    try {
      const summary = await prepare({ adapter: 'nih', adapterOptions: { metadataDir: metaDir, allowMissing: true }, root: samplesDir, sizes: [32], cacheDir, name: 'nih-samples', workers: 0, valFraction: 0 });
      expect(summary.labels).toEqual({ findings: { train: { Cardiomegaly: 1 }, val: {}, test: {} } });
      const cache = openCache(cacheDir, 'nih-samples', 32);
      try {
        expect(cache.manifest.version).toBe(2);
        expect(cache.manifest.entries.map(({ id, label, findings, split, patient, source }) => ({ id, label, findings, split, patient, source }))).toEqual([
          { id: '00000001_000.png', label: 1, findings: ['Cardiomegaly'], split: 'train', patient: '1', source: '00000001_000.png' },
          { id: '00027426_000.png', label: 0, findings: [], split: 'train', patient: '27426', source: '00027426_000.png' },
        ]);
      } finally {
        cache.close();
      }
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
