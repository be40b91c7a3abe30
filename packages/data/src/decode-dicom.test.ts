import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from './cache/read.ts';
import { decodeGrey } from './decode.ts';
import { decodeDicom, isDicom, isDicomFile } from './decode-dicom.ts';
import { prepare } from './prepare.ts';
import { sharedDataDir } from './testing/index.ts';

const shared = sharedDataDir();
const dcmPath = shared ? join(shared, 'cxr-samples', 'siim-chest-pa.dcm') : '';
const have = !!shared && (() => {
  try {
    return readFileSync(dcmPath).length > 0;
  } catch {
    return false;
  }
})();

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';

type El = { tag: [number, number]; vr: string; value: string | number | Uint8Array };

/**
 * A minimal DICOM part-10 writer for tests: real pixels in the encodings the decoder must read.
 * Group 0002 is always explicit little endian; the data set follows the transfer syntax.
 */
function writeDicom(syntax: string, elements: El[]): Uint8Array {
  const implicit = syntax === IMPLICIT_LE;
  const big = syntax === EXPLICIT_BE;
  const encode = (e: El, explicit: boolean, bigEndian: boolean): Buffer => {
    let v: Buffer;
    if (e.value instanceof Uint8Array) v = Buffer.from(e.value);
    else if (typeof e.value === 'number') {
      v = Buffer.alloc(2);
      bigEndian ? v.writeUInt16BE(e.value) : v.writeUInt16LE(e.value);
    } else v = Buffer.from(e.value, 'latin1');
    if (v.length % 2) v = Buffer.concat([v, Buffer.from(e.vr === 'UI' ? [0] : [0x20])]);
    const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(e.vr);
    const head = Buffer.alloc(explicit ? (long ? 12 : 8) : 8);
    const u16 = (x: number, o: number) => (bigEndian ? head.writeUInt16BE(x, o) : head.writeUInt16LE(x, o));
    const u32 = (x: number, o: number) => (bigEndian ? head.writeUInt32BE(x, o) : head.writeUInt32LE(x, o));
    u16(e.tag[0], 0);
    u16(e.tag[1], 2);
    if (!explicit) u32(v.length, 4);
    else {
      head.write(e.vr, 4, 'latin1');
      long ? u32(v.length, 8) : u16(v.length, 6);
    }
    return Buffer.concat([head, v]);
  };
  const meta = encode({ tag: [2, 0x10], vr: 'UI', value: syntax }, true, false);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(2, 0);
  groupLength.writeUInt16LE(0, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(meta.length, 8);
  let body = Buffer.concat(elements.map((e) => encode(e, !implicit, big)));
  if (syntax === DEFLATED) body = deflateRawSync(body);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, body]);
}

function imageElements(o: {
  w: number;
  h: number;
  photometric: string;
  bits: 8 | 16;
  stored?: number;
  signed?: boolean;
  pixels: Uint8Array;
  extra?: El[];
}): El[] {
  const stored = o.stored ?? o.bits;
  return [
    { tag: [0x28, 0x02], vr: 'US', value: 1 },
    { tag: [0x28, 0x04], vr: 'CS', value: o.photometric },
    { tag: [0x28, 0x10], vr: 'US', value: o.h },
    { tag: [0x28, 0x11], vr: 'US', value: o.w },
    { tag: [0x28, 0x100], vr: 'US', value: o.bits },
    { tag: [0x28, 0x101], vr: 'US', value: stored },
    { tag: [0x28, 0x102], vr: 'US', value: stored - 1 },
    { tag: [0x28, 0x103], vr: 'US', value: o.signed ? 1 : 0 },
    ...(o.extra ?? []),
    { tag: [0x7fe0, 0x10], vr: o.bits === 8 ? 'OB' : 'OW', value: o.pixels },
  ].sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]) as El[];
}

function pack16(values: ArrayLike<number>, bigEndian = false): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] & 0xffff;
    bigEndian ? b.writeUInt16BE(v, i * 2) : b.writeUInt16LE(v, i * 2);
  }
  return b;
}

function range(img: Uint8Array): [number, number] {
  let lo = 255;
  let hi = 0;
  for (const p of img) {
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return [lo, hi];
}

function maxAbsDiff(a: Uint8Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const mean = (img: Uint8Array, w: number, x0: number, x1: number, y0: number, y1: number) => {
  let s = 0;
  let n = 0;
  for (let y = Math.round(y0); y < y1; y++) for (let x = Math.round(x0); x < x1; x++, n++) s += img[y * w + x];
  return s / n;
};

describe.skipIf(!have)(`DICOM decoding of a real radiograph (needs ${dcmPath || '<repo>/../shared/data/cxr-samples/siim-chest-pa.dcm'})`, () => {
  let dir: string;
  let bytes: Uint8Array;
  /** the real X-ray at 256 px: ground truth for the synthetic encodings below */
  let g: Uint8Array;
  const S = 256;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cxr-dicom-'));
    bytes = new Uint8Array(readFileSync(dcmPath));
    const full = await decodeDicom(bytes, dcmPath);
    g = new Uint8Array(
      await sharp(full.pixels, { raw: { width: full.width, height: full.height, channels: 1 } })
        .resize(S, S, { fit: 'fill' })
        .toColourspace('b-w')
        .raw()
        .toBuffer(),
    );
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('decodes the JPEG-baseline MONOCHROME2 file to a plausible chest X-ray', async () => {
    const { pixels, width, height } = await decodeDicom(bytes, dcmPath);
    expect([width, height]).toEqual([1024, 1024]);
    const hist = new Array(256).fill(0);
    for (const p of pixels) hist[p]++;
    const levels = hist.filter((c) => c > 0).length;
    const biggest = Math.max(...hist) / pixels.length;
    expect(levels).toBeGreaterThan(150);
    expect(biggest).toBeLessThan(0.1);
    // PA chest: the mediastinum/spine in the centre is brighter than both lung fields at mid-height.
    const band = [Math.round(height * 0.4), Math.round(height * 0.6)] as const;
    const centre = mean(pixels, width, width * 0.45, width * 0.55, ...band);
    const right = mean(pixels, width, width * 0.2, width * 0.3, ...band);
    const left = mean(pixels, width, width * 0.7, width * 0.8, ...band);
    console.log(`siim-chest-pa.dcm: ${levels} grey levels, top bin ${(biggest * 100).toFixed(1)}%, centre ${centre.toFixed(0)} vs lungs ${right.toFixed(0)}/${left.toFixed(0)}`);
    expect(centre - right).toBeGreaterThan(25);
    expect(centre - left).toBeGreaterThan(25);
  });

  it('MONOCHROME1 (same file, photometric tag rewritten) decodes to the exact negative', async () => {
    const copy = Buffer.from(bytes);
    const at = copy.indexOf('MONOCHROME2');
    expect(at).toBeGreaterThan(0);
    copy.write('MONOCHROME1', at, 'latin1');
    const pos = await decodeDicom(bytes, 'mono2');
    const neg = await decodeDicom(copy, 'mono1');
    expect(maxAbsDiff(neg.pixels, Array.from(pos.pixels, (p) => 255 - p))).toBe(0);
  });

  it('a compressed syntax it cannot decode is an error naming the file and the syntax', async () => {
    const copy = Buffer.from(bytes);
    const at = copy.indexOf('1.2.840.10008.1.2.4.50');
    copy.write('1.2.840.10008.1.2.4.90', at, 'latin1');
    const file = join(dir, 'j2k.dcm');
    writeFileSync(file, copy);
    await expect(decodeGrey(file, 64)).rejects.toThrow(/j2k\.dcm.*1\.2\.840\.10008\.1\.2\.4\.90 \(JPEG 2000 Lossless\).*uncompressed/);
  });

  it('decodeGrey dispatches .dcm and DICM-magic files to the DICOM decoder', async () => {
    const noExt = join(dir, 'IM0001');
    writeFileSync(noExt, bytes);
    expect(isDicom(bytes)).toBe(true);
    expect(await isDicomFile(noExt)).toBe(true);
    const a = await decodeGrey(dcmPath, 128);
    const b = await decodeGrey(noExt, 128);
    expect(a.length).toBe(128 * 128);
    expect(maxAbsDiff(a, b)).toBe(0);
    const small = await sharp(g, { raw: { width: S, height: S, channels: 1 } }).resize(128, 128, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer();
    expect(maxAbsDiff(a, small)).toBeLessThanOrEqual(8); // 1024->128 vs 1024->256->128: same picture
  });

  it('prepare caches a folder of DICOM files (folder adapter) like decodeGrey decodes them', async () => {
    const root = join(dir, 'dicom-set');
    for (const cls of ['NORMAL', 'PNEUMONIA']) mkdirSync(join(root, 'train', cls), { recursive: true });
    writeFileSync(join(root, 'train', 'NORMAL', 'siim.dcm'), bytes);
    const m1 = writeDicom(IMPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME1', bits: 8, pixels: Uint8Array.from(g, (p) => 255 - p) }));
    writeFileSync(join(root, 'train', 'PNEUMONIA', 'mono1.dcm'), m1);
    const summary = await prepare({ adapter: 'folder', adapterOptions: { patientPattern: null }, root, sizes: [64], cacheDir: join(dir, 'cache'), name: 'dicom', workers: 1, valFraction: 0 });
    expect(summary.bad).toEqual([]);
    expect(summary.problems).toEqual([]);
    expect(summary.total).toBe(2);
    const cache = openCache(join(dir, 'cache'), 'dicom', 64);
    try {
      for (const [i, e] of cache.manifest.entries.entries()) {
        expect(cache.image(i), e.id).toEqual(await decodeGrey(join(root, e.id), 64));
      }
    } finally {
      cache.close();
    }
  });

  it('12-bit unsigned in 16 (overlay bits set above HighBit), no window: min-max gives the picture back', async () => {
    const [lo, hi] = range(g);
    // Overlay stripes in bits 12-15 must be masked off; stored values span 100 + 16*[lo, hi].
    const values = Array.from(g, (p, i) => ((i >> 3) & 1 ? 0xf000 : 0) | (100 + p * 16));
    for (const syntax of [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED]) {
      const file = writeDicom(
        syntax,
        imageElements({ w: S, h: S, photometric: 'MONOCHROME2', bits: 16, stored: 12, pixels: pack16(values, syntax === EXPLICIT_BE) }),
      );
      const out = await decodeDicom(file, syntax);
      expect(out.width).toBe(S);
      expect(maxAbsDiff(out.pixels, Array.from(g, (p) => ((p - lo) / (hi - lo)) * 255))).toBeLessThanOrEqual(0.5);
    }
  });

  it('signed 16-bit with RescaleSlope/Intercept and a LINEAR window maps back to the original levels', async () => {
    // stored = 8g - 1024 (negative for dark pixels); modality value x = 2*stored - 50 = 16g - 2098.
    // Window: c - 0.5 -/+ (w-1)/2 = -2098 / 1982, i.e. w = 4081, c = -57.5 -> output = g exactly.
    const values = Array.from(g, (p) => p * 8 - 1024);
    const extra: El[] = [
      { tag: [0x28, 0x1050], vr: 'DS', value: '-57.5\\100' }, // multi-valued: the first one counts
      { tag: [0x28, 0x1051], vr: 'DS', value: '4081\\200' },
      { tag: [0x28, 0x1052], vr: 'DS', value: '-50' },
      { tag: [0x28, 0x1053], vr: 'DS', value: '2' },
    ];
    const file = writeDicom(EXPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME2', bits: 16, signed: true, pixels: pack16(values), extra }));
    const out = await decodeDicom(file, 'signed');
    expect(maxAbsDiff(out.pixels, g)).toBe(0);

    // A narrow window on the same data clips: everything above its top is white, below its bottom black.
    extra[0].value = '1000'; // 16g - 2098 in [500, 1500) -> g in [163, 225]
    extra[1].value = '1001';
    const narrow = await decodeDicom(writeDicom(EXPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME2', bits: 16, signed: true, pixels: pack16(values), extra })), 'narrow');
    let checked = 0;
    for (let i = 0; i < g.length; i++) {
      if (g[i] <= 162) expect(narrow.pixels[i]).toBe(0);
      else if (g[i] >= 226) expect(narrow.pixels[i]).toBe(255);
      else checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('8-bit MONOCHROME1 (implicit VR) is inverted back', async () => {
    const [lo, hi] = range(g);
    const stored = Uint8Array.from(g, (p) => 255 - p);
    const out = await decodeDicom(writeDicom(IMPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME1', bits: 8, pixels: stored })), 'm1');
    expect(maxAbsDiff(out.pixels, Array.from(g, (p) => ((p - lo) / (hi - lo)) * 255))).toBeLessThanOrEqual(0.5);
  });

  it('truncated pixel data and colour images are errors naming the file', async () => {
    const short = writeDicom(EXPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME2', bits: 16, pixels: pack16(Array.from(g).slice(0, 1000)) }));
    await expect(decodeDicom(short, 'short.dcm')).rejects.toThrow(/short\.dcm: pixel data holds 2000 bytes, 131072 expected/);
    const rgb = writeDicom(EXPLICIT_LE, imageElements({ w: S, h: S, photometric: 'RGB', bits: 8, pixels: g }));
    await expect(decodeDicom(rgb, 'rgb.dcm')).rejects.toThrow(/rgb\.dcm: photometric interpretation RGB/);
    await expect(decodeDicom(new Uint8Array(300), 'zeros.dcm')).rejects.toThrow(/zeros\.dcm: not a readable DICOM file/);
    // a file cut inside its data set: the parser's own reason, not "[object Object]"
    const cut = writeDicom(EXPLICIT_LE, imageElements({ w: S, h: S, photometric: 'MONOCHROME2', bits: 8, pixels: g })).subarray(0, 200);
    await expect(decodeDicom(cut, 'cut.dcm')).rejects.toThrow(/cut\.dcm: not a readable DICOM file \(dicomParser[^)]*(overrun|beyond|end)[^)]*\)/);
  });
});
