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
    const why = /^(unknown error)?$/i.test(msg) ? 'the image data is unreadable (corrupt or truncated)' : msg;
    throw new Error(`cannot decode image ${path}: ${why}. Check the file, or remove it from the data set`);
  }
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
  return Promise.all(sizes.map((s) => resizeRaster(raster, s)));
}
