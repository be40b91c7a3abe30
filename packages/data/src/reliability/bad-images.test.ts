import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadList, cacheFiles } from '../cache/format.ts';
import { openCache } from '../cache/read.ts';
import { decodeGrey, diagnose } from '../decode.ts';
import { PrepareError, prepare } from '../prepare.ts';
import { fixtureDir } from '../testing/index.ts';

/**
 * Every kind of broken or unusual image a real data set holds, each made from a real fixture
 * X-ray, through prepare(): readable variants are cached with the original's pixels, unreadable
 * ones are listed in <name>-<size>.bad.json with the file and what to do, and skipped.
 * (decode.test.ts / decode-16bit.test.ts check the decoder alone.)
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-badimg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const xray = join(fixtureDir(), 'train', 'NORMAL', 'IM-0115-0001.png');
const root = join(tmp, 'set');
const cls = join(root, 'train', 'NORMAL');

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A well-formed PNG header claiming 20000 x 20000 grey pixels (400 MP), with a token IDAT. */
function hugePng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr[8] = 8; // bit depth; colour type 0 = grey
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([sig, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(20001 * 8))), pngChunk('IEND', Buffer.alloc(0))]);
}

// name -> expected: 'ok' (cached with the original's grey pixels, within `tol` levels) or the reason pattern
const GOOD: Record<string, number> = {
  'a-original.png': 0,
  'b-grey16.png': 0,
  'c-rgb.png': 1, // RGB -> luminance rounding
  'd-rgba.png': 1,
  'e-palette.png': 12, // 64-colour quantisation
  'f-jpeg-named.png': 12, // lossy JPEG behind a .png name: sharp sniffs the content
};
const BAD: Record<string, RegExp> = {
  'g-zero-byte.png': /cannot decode image .*g-zero-byte\.png: .*Check the file, or remove it/,
  'h-truncated.png': /cannot decode image .*h-truncated\.png: .*(read error|premature|truncated|corrupt).*Check the file, or remove it/i,
  'i-truncated.jpg': /cannot decode image .*i-truncated\.jpg: .*premature end( of JPEG data)?.*Check the file, or remove it/i,
  'j-text.png': /cannot decode image .*j-text\.png: .*Check the file, or remove it/,
  'k-huge.png': /cannot decode image .*k-huge\.png: .*pixel limit.*Check the file, or remove it/,
  // a DICOM name on something else: said for what it is, not "no image in this DICOM file ... a DICOMDIR?"
  'l-text.dcm': /l-text\.dcm: not a DICOM file but text \(it begins "PatientID,Finding"\); there is no 'DICM' marker at byte 128\. Replace it with the image itself/,
  'm-png-named.dcm': /m-png-named\.dcm: not a DICOM file but a PNG image with a DICOM name: rename it to \.png/,
};

beforeAll(async () => {
  mkdirSync(cls, { recursive: true });
  const p = (n: string) => join(cls, n);
  copyFileSync(xray, p('a-original.png'));
  await sharp(xray).toColourspace('grey16').png().toFile(p('b-grey16.png'));
  await sharp(xray).toColourspace('srgb').png().toFile(p('c-rgb.png'));
  await sharp(xray).toColourspace('srgb').ensureAlpha().png().toFile(p('d-rgba.png'));
  await sharp(xray).toColourspace('srgb').png({ palette: true, colours: 64 }).toFile(p('e-palette.png'));
  const jpeg = await sharp(xray).jpeg({ quality: 90 }).toBuffer();
  writeFileSync(p('f-jpeg-named.png'), jpeg);
  writeFileSync(p('g-zero-byte.png'), '');
  const png = readFileSync(xray);
  writeFileSync(p('h-truncated.png'), png.subarray(0, png.length >> 1));
  writeFileSync(p('i-truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(p('j-text.png'), 'patient list, not an image\n');
  writeFileSync(p('k-huge.png'), hugePng());
  writeFileSync(p('l-text.dcm'), 'PatientID,Finding\n00012,Effusion\n'.repeat(20)); // longer than the 132 bytes a DICOM preamble needs
  copyFileSync(xray, p('m-png-named.dcm'));
  // the variants really are what their names say
  expect((await sharp(p('b-grey16.png')).metadata()).depth).toBe('ushort');
  expect((await sharp(p('c-rgb.png')).metadata()).channels).toBe(3);
  expect((await sharp(p('d-rgba.png')).metadata()).channels).toBe(4);
  expect(readFileSync(p('e-palette.png'))[25]).toBe(3); // IHDR colour type 3: indexed
  expect((await sharp(p('f-jpeg-named.png')).metadata()).format).toBe('jpeg');
});

describe('diagnose: the reason given when libvips returns no message', () => {
  // libvips's error buffer is process-wide, so a decode failing while another thread decodes can
  // come back as a bare "Unknown error"; the reason then comes from the file's own bytes
  it('names what is wrong with each broken variant', async () => {
    const p = (n: string) => join(cls, n);
    expect(await diagnose(p('g-zero-byte.png'))).toBe('the file is empty (0 bytes)');
    expect(await diagnose(p('h-truncated.png'))).toMatch(/^premature end of PNG data: .*no IEND/);
    expect(await diagnose(p('i-truncated.jpg'))).toMatch(/^premature end of JPEG data: the file is truncated/);
    expect(await diagnose(p('j-text.png'))).toMatch(/^not an image: /);
    expect(await diagnose(p('k-huge.png'))).toMatch(/^input image exceeds pixel limit \(400000000 > /);
    expect(await diagnose(p('f-jpeg-named.png'))).toBe('the JPEG data is corrupt'); // intact: only reached on a real failure
  });
});

describe('bad and unusual images through prepare()', () => {
  it('caches every readable variant with the original pixels and lists each unreadable file with the reason', async () => {
    const cacheDir = join(tmp, 'cache');
    const s = await prepare({ adapter: 'folder', root, sizes: [32], cacheDir, name: 'mixed', workers: 0, valFraction: 0 });
    expect(s.total).toBe(Object.keys(GOOD).length);
    expect(s.bad.map((b) => b.id)).toEqual(Object.keys(BAD).map((n) => `train/NORMAL/${n}`));
    for (const b of s.bad) expect(b.reason).toMatch(BAD[b.id.split('/').pop()!]);
    // the report file in the cache folder says the same
    const listed = BadList.parse(JSON.parse(readFileSync(cacheFiles(cacheDir, 'mixed', 32).bad, 'utf8')));
    expect(listed).toEqual(s.bad);
    const cache = openCache(cacheDir, 'mixed', 32);
    const want = await decodeGrey(xray, 32);
    expect(cache.manifest.entries.map((e) => e.id)).toEqual(Object.keys(GOOD).map((n) => `train/NORMAL/${n}`));
    cache.manifest.entries.forEach((e, i) => {
      const got = cache.image(i);
      let max = 0;
      for (let k = 0; k < got.length; k++) max = Math.max(max, Math.abs(got[k] - want[k]));
      expect(max, e.id).toBeLessThanOrEqual(GOOD[e.id.split('/').pop()!]);
    });
  });

  it('--strict: the cache and the bad list are written, then an error names the list and says what to do', async () => {
    const cacheDir = join(tmp, 'strict');
    const err = await prepare({ adapter: 'folder', root, sizes: [32], cacheDir, name: 'mixed', workers: 0, valFraction: 0, strict: true }).catch((e) => e);
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toMatch(/^7 of 13 images could not be read \(--strict\); they are listed in .*mixed-32\.bad\.json/);
    expect(err.message).toMatch(/g-zero-byte\.png: cannot decode image/);
    expect(err.message).toMatch(/Fix or remove them and rerun with --force, or rerun without --strict/);
    expect(openCache(cacheDir, 'mixed', 32).count).toBe(6); // nothing good was thrown away
  });

  it('fails when nothing usable remains, even without --strict', async () => {
    const allBad = join(tmp, 'allbad', 'NORMAL');
    mkdirSync(allBad, { recursive: true });
    for (const n of ['g-zero-byte.png', 'j-text.png', 'k-huge.png']) copyFileSync(join(cls, n), join(allBad, n));
    const err = await prepare({ adapter: 'folder', root: join(tmp, 'allbad'), sizes: [32], cacheDir: join(tmp, 'c3'), name: 'none', workers: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toMatch(/none of the 3 images of .*allbad could be read \(all listed in .*none-32\.bad\.json\)/);
    expect(err.message).toMatch(/Check that --source points at the images/);
  });
});
