import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeDicomFile, isDicomFile } from './decode-dicom.ts';

/**
 * Decoding and resizing with sharp (libvips).
 *  - Grey: `.greyscale()` maps RGB(A) to luminance and 16-bit PNGs to 8 bits by scaling
 *    (65535 -> 255), not clipping; alpha is dropped (X-rays carry none that matters).
 *  - Fit 'fill': the whole image is stretched to S x S. X-rays are near-square and cropping
 *    ('cover') could cut off lung apices or costophrenic angles; the study resized NIH's square
 *    1024 px images the same way.
 *  - Kernel lanczos3 (sharp's default): a sharp but anti-aliased downscale; heavy reductions
 *    (1024 -> 128) are box-shrunk first by libvips, then lanczos-filtered.
 * decodeGrey and decodeGreySizes share one path (full-size grey raster, then one resize per
 * size) so a cache written for several sizes in one pass equals single-size decodes bit for bit.
 */
export const DECODE_VERSION = 1;
export const RESIZE = { fit: 'fill', kernel: 'lanczos3' } as const;

async function greyRaster(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  if (await isDicomFile(path)) return decodeDicomFile(path); // .dcm or DICM magic: windowed to 8 bits there
  try {
    const { data, info } = await sharp(path, { failOn: 'error' })
      .greyscale()
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`decoded to ${info.channels} channels, expected 1`);
    return { data, width: info.width, height: info.height };
  } catch (e) {
    // libvips keeps one error buffer per process: under concurrency a failed decode can come back as a
    // bare "Unknown error", which tells the user nothing
    const msg = (e as Error).message?.trim() ?? '';
    const why = /^(unknown error)?$/i.test(msg) ? await diagnose(path) : msg;
    throw new Error(`cannot decode image ${path}: ${why}. Check the file, or remove it from the data set`);
  }
}

const PIXEL_LIMIT = 0x3fff * 0x3fff; // sharp's default limitInputPixels
/** The smallest side a source image may have (the smallest real X-ray thumbnails are far larger). */
export const MIN_IMAGE_SIDE = 32;

/**
 * What is structurally wrong with a file libvips could not decode, read from its bytes, for when
 * libvips's process-wide error buffer came back empty (another thread's decode cleared it).
 */
export async function diagnose(path: string): Promise<string> {
  const b = await readFile(path);
  if (b.length === 0) return 'the file is empty (0 bytes)';
  const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b[0] === 0xff && b[1] === 0xd8) {
    const end = b.subarray(-2);
    return end[0] === 0xff && end[1] === 0xd9 ? 'the JPEG data is corrupt' : 'premature end of JPEG data: the file is truncated';
  }
  if (PNG.every((v, i) => b[i] === v)) {
    const pixels = b.length >= 24 ? b.readUInt32BE(16) * b.readUInt32BE(20) : 0; // IHDR width x height
    if (pixels > PIXEL_LIMIT) return `input image exceeds pixel limit (${pixels} > ${PIXEL_LIMIT})`;
    return b.includes('IEND', 8, 'latin1') ? 'the PNG data is corrupt' : 'premature end of PNG data: the file is truncated (no IEND chunk)';
  }
  const head = b.subarray(0, 12).toString('latin1');
  if (/^(II\*\0|MM\0\*|GIF8|RIFF....WEBP)/s.test(head)) return 'the image data is unreadable (corrupt or truncated)';
  return 'not an image: its first bytes are not those of a PNG, JPEG, TIFF, WebP, GIF or DICOM file';
}

async function resizeRaster(r: { data: Buffer; width: number; height: number }, size: number): Promise<Uint8Array> {
  if (r.width === size && r.height === size) return new Uint8Array(r.data);
  const out = await sharp(r.data, { raw: { width: r.width, height: r.height, channels: 1 } })
    .resize(size, size, RESIZE)
    .toColourspace('b-w') // raw 1-channel input would otherwise come back as sRGB
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (out.info.channels !== 1) throw new Error(`resize to ${size} px gave ${out.info.channels} channels, expected 1`);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}

/** One grey 8-bit size x size raster (row-major) of an image file. Throws naming the file. */
export async function decodeGrey(path: string, size: number): Promise<Uint8Array> {
  return (await decodeGreySizes(path, [size]))[0];
}

/** Decodes once, resizes to each size. */
export async function decodeGreySizes(path: string, sizes: readonly number[]): Promise<Uint8Array[]> {
  for (const s of sizes) if (!Number.isInteger(s) || s < 1) throw new Error(`image size must be a positive integer, got ${s}`);
  const raster = await greyRaster(path);
  if (raster.width < MIN_IMAGE_SIDE || raster.height < MIN_IMAGE_SIDE) {
    // a 1 x 1 (or 5 x 3) file resizes to a flat grey square without complaint: it is no X-ray
    throw new Error(`image ${path} is ${raster.width} x ${raster.height} px, too small to be an X-ray (at least ${MIN_IMAGE_SIDE} px a side): remove it from the data set`);
  }
  return Promise.all(sizes.map((s) => resizeRaster(raster, s)));
}
