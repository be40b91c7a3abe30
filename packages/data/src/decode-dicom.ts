import { open, readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import sharp from 'sharp';
import { DICOM_CODECS } from './dicom-codecs.ts';

/**
 * DICOM -> 8-bit grey, the way a viewer shows it: stored values (8/16/32-bit, signed or not,
 * BitsStored masked) -> Modality LUT (RescaleSlope/Intercept) -> VOI window (WindowCenter/Width,
 * LINEAR / LINEAR_EXACT / SIGMOID) or, without a window, min-max over the image -> MONOCHROME1
 * inverted so that bone is always bright. Uncompressed transfer syntaxes (implicit/explicit little
 * endian, explicit big endian, deflated) are decoded here; JPEG baseline/extended 8-bit (the
 * common lossy archive format) is handed to sharp; JPEG Lossless, JPEG-LS and JPEG 2000 to the
 * codecs of dicom-codecs.ts; anything else (RLE, HTJ2K) is an error naming the syntax.
 */

export interface GreyRaw {
  /** width x height uint8, row-major */
  pixels: Uint8Array;
  width: number;
  height: number;
}

const TRANSFER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (8-bit)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (12-bit)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};
const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
/** JPEG process 1/2-4: libjpeg in sharp decodes these (8-bit samples only). */
const JPEG_VIA_SHARP = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51']);

/** A DICOM part-10 file: the extension, or the 'DICM' magic after the 128-byte preamble. */
export function isDicom(bytes: Uint8Array, path = ''): boolean {
  if (/\.(dcm|dicom)$/i.test(path)) return true;
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

const NOT_DICOM_EXTENSIONS = /\.(png|jpe?g|tiff?|webp|gif|bmp)$/i;

/** Same test on a file; reads 132 bytes only when the extension does not already decide. */
export async function isDicomFile(path: string): Promise<boolean> {
  if (isDicom(new Uint8Array(0), path)) return true;
  if (NOT_DICOM_EXTENSIONS.test(path)) return false;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await fh.read(head, 0, 132, 0);
    return isDicom(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** dicom-parser throws strings; turn them into Errors that say which file. */
function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

/** dicom-parser throws Errors, strings, or `{ exception, dataSet }` when a file ends early. */
function parserReason(e: unknown): string {
  const inner = typeof e === 'object' && e !== null && 'exception' in e ? (e as { exception: unknown }).exception : e;
  return inner instanceof Error ? inner.message : String(inner);
}

function parse(bytes: Uint8Array, where: string): DataSet {
  const inflater = (arr: Uint8Array, position: number) => {
    const inflated = inflateRawSync(arr.subarray(position));
    const full = new Uint8Array(position + inflated.length);
    full.set(arr.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
  try {
    return dicomParser.parseDicom(bytes, { inflater } as never);
  } catch (e) {
    const msg = parserReason(e);
    // Old files often lack the 128-byte preamble + DICM: try them as a bare implicit-LE data set,
    // unless the bytes say they are something else (a text file, an image under a .dcm name)
    if (/DICM prefix not found/.test(msg)) {
      const other = notDicom(bytes);
      if (other) return fail(where, other);
      try {
        return dicomParser.parseDicom(bytes, { TransferSyntaxUID: '1.2.840.10008.1.2' });
      } catch {
        /* fall through to the first error, which says more */
      }
    }
    return fail(where, `not a readable DICOM file (${msg}); check that it is a complete DICOM part-10 file`);
  }
}

/**
 * Why bytes without the DICM marker are no DICOM data set at all, if they say so: text (a report, a
 * CSV, an HTML error page saved under the image's name), another image format, or a first element
 * whose group no data set begins with (a bare data set opens with group 0008, or 0002..0028).
 */
function notDicom(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, 1024);
  const plain = head.length > 0 && head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127));
  if (plain) {
    const first = Buffer.from(head).toString('utf8').split(/\r?\n/)[0].slice(0, 60);
    return `not a DICOM file but text (it begins "${first}"); there is no 'DICM' marker at byte 128. Replace it with the image itself, or remove it from the data set`;
  }
  const magic: [string, number[]][] = [['PNG', [0x89, 0x50, 0x4e, 0x47]], ['JPEG', [0xff, 0xd8, 0xff]]];
  for (const [format, sig] of magic) {
    if (sig.every((v, i) => bytes[i] === v)) return `not a DICOM file but a ${format} image with a DICOM name: rename it to .${format.toLowerCase()}`;
  }
  const group = bytes.length >= 2 ? bytes[0] | (bytes[1] << 8) : 0;
  if (group < 0x0002 || group > 0x0028 || group % 2 === 1) {
    return "not a readable DICOM file (no 'DICM' marker at byte 128, and its first bytes are not a DICOM element): check that it is a complete DICOM part-10 file";
  }
  return undefined;
}

function num(ds: DataSet, tag: string, fallback?: number): number | undefined {
  // DS/IS elements are strings, possibly multi-valued ('40\400'): the first value is the default.
  const v = ds.floatString(tag, 0);
  return v === undefined || Number.isNaN(v) ? fallback : v;
}

/** The raw stored values of frame 0 as numbers (BitsStored masked, sign-extended). */
function storedValues(ds: DataSet, px: Element, where: string, syntax: string, n: number): Float64Array {
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  const signed = ds.uint16('x00280103') === 1;
  if (![8, 16, 32].includes(bitsAllocated)) {
    fail(where, `BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32); convert the file to 8 or 16 bits`);
  }
  const bytesPer = bitsAllocated / 8;
  if (px.encapsulatedPixelData || px.dataOffset + n * bytesPer > ds.byteArray.length || px.length < n * bytesPer) {
    fail(where, `pixel data holds ${px.length} bytes, ${n * bytesPer} expected for one frame: the file is truncated or mislabelled (${syntax})`);
  }
  const bytes = ds.byteArray;
  const view = new DataView(bytes.buffer, bytes.byteOffset + px.dataOffset, n * bytesPer);
  const little = syntax !== BIG_ENDIAN;
  const shift = highBit + 1 - bitsStored;
  const range = 2 ** bitsStored;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const raw = bytesPer === 1 ? view.getUint8(i) : bytesPer === 2 ? view.getUint16(i * 2, little) : view.getUint32(i * 4, little);
    // Bits above HighBit may carry overlays: keep only the stored bits, then sign-extend.
    let v = Math.floor(raw / 2 ** shift) % range;
    if (signed && v >= range / 2) v -= range;
    out[i] = v;
  }
  return out;
}

async function jpegValues(ds: DataSet, px: Element, where: string, syntax: string, w: number, h: number): Promise<Float64Array> {
  const frames = num(ds, 'x00280008', 1) ?? 1;
  const fragments = px.fragments ?? [];
  let jpeg: Uint8Array;
  try {
    jpeg =
      px.basicOffsetTable?.length || frames > 1
        ? dicomParser.readEncapsulatedImageFrame(ds, px, 0, px.basicOffsetTable?.length ? undefined : dicomParser.createJPEGBasicOffsetTable(ds, px))
        : dicomParser.readEncapsulatedPixelDataFromFragments(ds, px, 0, fragments.length);
  } catch (e) {
    return fail(where, `cannot read the encapsulated ${TRANSFER_SYNTAXES[syntax]} pixel data (${String((e as Error)?.message ?? e)})`);
  }
  let raw: { data: Buffer; info: { width: number; height: number } };
  try {
    raw = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    return fail(
      where,
      `the ${TRANSFER_SYNTAXES[syntax]} pixel data could not be decoded (${(e as Error).message}); ` +
        `only 8-bit JPEG is supported: convert the file to uncompressed (e.g. 'gdcmconv --raw in.dcm out.dcm')`,
    );
  }
  if (raw.info.width !== w || raw.info.height !== h) {
    fail(where, `JPEG frame is ${raw.info.width}x${raw.info.height} but Rows/Columns say ${w}x${h}`);
  }
  return Float64Array.from(raw.data);
}

/** One frame through a codec of dicom-codecs.ts -> stored values (BitsStored masked, sign-extended as storedValues does). */
async function codecValues(ds: DataSet, px: Element, where: string, syntax: string, w: number, h: number): Promise<Float64Array> {
  const name = `transfer syntax ${syntax} (${TRANSFER_SYNTAXES[syntax]})`;
  const bitsAllocated = ds.uint16('x00280100') ?? 8;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = ds.uint16('x00280103') === 1;
  const fragments = px.fragments ?? [];
  let decoded: Awaited<ReturnType<(typeof DICOM_CODECS)[string]>>;
  try {
    const frame =
      px.basicOffsetTable?.length || (num(ds, 'x00280008', 1) ?? 1) > 1
        ? dicomParser.readEncapsulatedImageFrame(ds, px, 0)
        : dicomParser.readEncapsulatedPixelDataFromFragments(ds, px, 0, fragments.length);
    decoded = await DICOM_CODECS[syntax](frame, bitsAllocated);
  } catch (e) {
    return fail(where, `${name}: the pixel data could not be decoded (${String((e as Error)?.message ?? e)}); convert the file to uncompressed, e.g. 'gdcmconv --raw in.dcm out.dcm'`);
  }
  const n = w * h;
  if ((decoded.width !== undefined && (decoded.width !== w || decoded.height !== h)) || decoded.components !== 1 || decoded.bytes.length < n * decoded.bytesPerSample) {
    fail(
      where,
      `${name}: the pixel data did not decode to one grey ${w}x${h} frame (got ${decoded.width ?? '?'}x${decoded.height ?? '?'}, ${decoded.components} component(s), ${decoded.bytes.length} bytes): ` +
        `the file may be corrupt or mislabelled; convert it to uncompressed, e.g. 'gdcmconv --raw in.dcm out.dcm'`,
    );
  }
  const view = new DataView(decoded.bytes.buffer, decoded.bytes.byteOffset, decoded.bytes.byteLength);
  const range = 2 ** bitsStored;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = (decoded.bytesPerSample === 1 ? view.getUint8(i) : view.getUint16(i * 2, true)) % range;
    if (signed && v >= range / 2) v -= range;
    out[i] = v;
  }
  return out;
}

/** Value of interest -> 0..255 per PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID). */
function windowFn(center: number, width: number, fn: string): (x: number) => number {
  if (fn === 'SIGMOID') return (x) => 255 / (1 + Math.exp((-4 * (x - center)) / width));
  if (fn === 'LINEAR_EXACT') return (x) => ((x - center) / width + 0.5) * 255;
  return (x) => ((x - (center - 0.5)) / Math.max(width - 1, 1) + 0.5) * 255;
}

/** Decodes a DICOM file's first frame to full-resolution 8-bit grey. `where` names it in errors. */
export async function decodeDicom(bytes: Uint8Array, where: string): Promise<GreyRaw> {
  const ds = parse(bytes, where);
  const syntax = ds.string('x00020010') ?? '1.2.840.10008.1.2';
  const syntaxName = TRANSFER_SYNTAXES[syntax] ?? 'unknown';
  const width = ds.uint16('x00280011') ?? 0;
  const height = ds.uint16('x00280010') ?? 0;
  const px = ds.elements.x7fe00010;
  if (!px || !width || !height) fail(where, 'no image in this DICOM file (no Rows/Columns or Pixel Data): is it a structured report or a DICOMDIR?');
  const samples = ds.uint16('x00280002') ?? 1;
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    fail(where, `photometric interpretation ${photometric} with ${samples} samples per pixel: only grey (MONOCHROME1/2) X-rays are supported`);
  }
  const n = width * height;
  let values: Float64Array;
  if (UNCOMPRESSED.has(syntax)) values = storedValues(ds, px, where, syntax, n);
  else if (JPEG_VIA_SHARP.has(syntax)) values = await jpegValues(ds, px, where, syntax, width, height);
  else if (DICOM_CODECS[syntax]) values = await codecValues(ds, px, where, syntax, width, height);
  else {
    return fail(
      where,
      `transfer syntax ${syntax} (${syntaxName}) is compressed and not supported: ` +
        `convert the file to uncompressed, e.g. 'gdcmconv --raw in.dcm out.dcm' or 'dcmdjpeg in.dcm out.dcm'`,
    );
  }

  const slope = num(ds, 'x00281053', 1) ?? 1;
  const intercept = num(ds, 'x00281052', 0) ?? 0;
  // Padding (the area outside the collimated field) must not stretch the min-max range.
  const padding = ds.elements.x00280120 ? (ds.uint16('x00280103') === 1 ? ds.int16('x00280120') : ds.uint16('x00280120')) : undefined;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const stored = values[i];
    const v = stored * slope + intercept;
    values[i] = v;
    if (stored !== padding) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const center = num(ds, 'x00281050');
  const widthW = num(ds, 'x00281051');
  const voi =
    center !== undefined && widthW !== undefined && widthW > 0
      ? windowFn(center, widthW, (ds.string('x00281056') ?? 'LINEAR').trim().toUpperCase())
      : (x: number) => (hi > lo ? ((x - lo) / (hi - lo)) * 255 : 0);
  const invert = photometric === 'MONOCHROME1';
  const pixels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.round(Math.min(255, Math.max(0, voi(values[i]))));
    pixels[i] = invert ? 255 - g : g;
  }
  return { pixels, width, height };
}

/** decodeDicom on a file, in the raster shape decode.ts resizes from. */
export async function decodeDicomFile(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read DICOM file ${path}: ${(e as Error).message}`);
  }
  const g = await decodeDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  return { data: Buffer.from(g.pixels.buffer, g.pixels.byteOffset, g.pixels.byteLength), width: g.width, height: g.height };
}
