import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDicom } from './decode-dicom.ts';
import { DICOM_CODECS } from './dicom-codecs.ts';
import { sharedDataDir } from './testing/index.ts';

// Compressed DICOM as PACS exports it, made from the shared radiograph by a real encoder (Debian's
// gdcm tools, `gdcmconv`): the lossless syntaxes must decode pixel-equal to the uncompressed file.
const shared = sharedDataDir();
const source = shared ? join(shared, 'cxr-samples', 'siim-chest-pa.dcm') : '';
const gdcm = spawnSync('gdcmconv', ['--version'], { encoding: 'utf8' }).status === 0;
const have = !!source && existsSync(source) && gdcm;
if (!have) console.warn(`skipped: compressed DICOM (needs ${source || '../shared/data/cxr-samples/siim-chest-pa.dcm'} and gdcmconv: apt-get install libgdcm-tools)`);
const tmp = mkdtempSync(join(tmpdir(), 'cxr-dcm-codecs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function convert(name: string, ...flags: string[]): { path: string; syntax: string } {
  return convertFrom(name === 'raw' ? source : join(tmp, 'raw.dcm'), name, ...flags);
}
function convertFrom(input: string, name: string, ...flags: string[]): { path: string; syntax: string } {
  const path = join(tmp, `${name}.dcm`);
  const r = spawnSync('gdcmconv', [...flags, input, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gdcmconv ${flags.join(' ')}: ${r.stderr}`);
  const syntax = dicomParser.parseDicom(new Uint8Array(readFileSync(path))).string('x00020010') ?? '';
  return { path, syntax };
}
const decode = async (path: string) => decodeDicom(new Uint8Array(readFileSync(path)), path);
const maxAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe.skipIf(!have)('compressed DICOM from gdcmconv', () => {
  const raw = have ? convert('raw', '--raw') : { path: '', syntax: '' };
  it.each([
    ['JPEG Lossless SV1', ['--jpeg'], '1.2.840.10008.1.2.4.70'],
    ['JPEG-LS Lossless', ['--jpegls'], '1.2.840.10008.1.2.4.80'],
    ['JPEG 2000 Lossless', ['--j2k'], '1.2.840.10008.1.2.4.90'],
  ])('%s decodes pixel-equal to the uncompressed file', async (_, flags, syntax) => {
    const c = convert(syntax, ...flags);
    expect(c.syntax).toBe(syntax);
    expect(readFileSync(c.path).length).toBeLessThan(readFileSync(raw.path).length); // really compressed
    const want = await decode(raw.path);
    const got = await decode(c.path);
    expect([got.width, got.height]).toEqual([want.width, want.height]);
    expect(maxAbsDiff(got.pixels, want.pixels)).toBe(0);
    expect(new Set(got.pixels).size).toBeGreaterThan(100); // a radiograph, not a flat image
  });
  it.each([
    ['JPEG-LS near-lossless (allowed error 3)', ['--jpegls', '--lossy', '-e', '3'], '1.2.840.10008.1.2.4.81', 8],
    ['JPEG 2000 lossy', ['--j2k', '--lossy', '-q', '30'], '1.2.840.10008.1.2.4.91', 40],
  ])('%s decodes close to the uncompressed file', async (_, flags, syntax, tolerance) => {
    const c = convert(syntax, ...(flags as string[]));
    expect(c.syntax).toBe(syntax);
    const want = await decode(raw.path);
    const got = await decode(c.path);
    const mean = got.pixels.reduce((s, v, i) => s + Math.abs(v - want.pixels[i]), 0) / got.pixels.length;
    expect(mean).toBeLessThan(tolerance as number);
  });
  it('RLE (no decoder here) is an error naming the file and the syntax', async () => {
    const c = convert('rle', '--rle');
    await expect(decode(c.path)).rejects.toThrow(/rle\.dcm.*1\.2\.840\.10008\.1\.2\.5 \(RLE Lossless\).*gdcmconv --raw/);
  });

  it('12 bits stored in 16 (a PACS radiograph): each lossless codec returns the stored values exactly', async () => {
    // the shared film's pixels x 16 plus a low-bit pattern: every one of the 12 bits carries information
    const ds = dicomParser.parseDicom(new Uint8Array(readFileSync(raw.path)));
    const px = ds.elements.x7fe00010;
    const grey = ds.byteArray.subarray(px.dataOffset, px.dataOffset + px.length);
    const want = Uint16Array.from(grey, (v, i) => v * 16 + ((i * 7) % 16));
    writeFileSync(join(tmp, 'p16.raw'), want);
    const size = `${ds.uint16('x00280011')},${ds.uint16('x00280010')}`;
    const made = spawnSync('gdcmimg', ['--size', size, '--depth', '16', '--pf', '16,12,11', join(tmp, 'p16.raw'), join(tmp, 'p16.dcm')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const uncompressed = await decode(join(tmp, 'p16.dcm'));
    for (const [flag, syntax] of [
      ['--jpeg', '1.2.840.10008.1.2.4.70'],
      ['--jpegls', '1.2.840.10008.1.2.4.80'],
      ['--j2k', '1.2.840.10008.1.2.4.90'],
    ]) {
      const c = convertFrom(join(tmp, 'p16.dcm'), `p16-${flag.slice(2)}`, flag);
      expect(c.syntax).toBe(syntax);
      const cds = dicomParser.parseDicom(new Uint8Array(readFileSync(c.path)));
      const cpx = cds.elements.x7fe00010;
      const frame = dicomParser.readEncapsulatedPixelDataFromFragments(cds, cpx, 0, cpx.fragments!.length);
      const out = await DICOM_CODECS[syntax](frame, 16);
      expect(out.bytesPerSample, syntax).toBe(2);
      const got = new Uint16Array(out.bytes.buffer, out.bytes.byteOffset, want.length);
      expect(got.every((v, i) => v === want[i]), syntax).toBe(true);
      expect(maxAbsDiff((await decode(c.path)).pixels, uncompressed.pixels), syntax).toBe(0);
    }
  }, 60_000);
});
