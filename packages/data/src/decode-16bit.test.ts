import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGrey } from './decode.ts';
import { fixtureDir, sharedDataDir } from './testing/index.ts';

/**
 * 16-bit and non-grey PNGs of real X-rays must decode to the same 8-bit grey as the 8-bit
 * original. Decoded at native size so no resize can hide a depth or colour error.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-16bit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const normalDir = join(fixtureDir(), 'train', 'NORMAL');
const pneumoniaDir = join(fixtureDir(), 'train', 'PNEUMONIA');
const fixtureXrays = [join(normalDir, readdirSync(normalDir)[0]), join(pneumoniaDir, readdirSync(pneumoniaDir)[0])];
const samples = sharedDataDir() && join(sharedDataDir()!, 'cxr-samples');

async function raw8(path: string): Promise<{ px: Uint8Array; size: number }> {
  const { data, info } = await sharp(path).greyscale().raw().toBuffer({ resolveWithObject: true });
  expect(info.width).toBe(info.height);
  return { px: new Uint8Array(data), size: info.width };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** grey 16-bit PNG whose sample i is `value(i)`, written from a uint16 raster */
async function write16(path: string, values: Uint16Array, size: number): Promise<void> {
  // A Uint16Array raw input is read as 16-bit samples (sharp infers the depth from the array type).
  await sharp(values, { raw: { width: size, height: size, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(path);
  expect((await sharp(path).metadata()).depth).toBe('ushort');
}

describe('16-bit grey PNG', () => {
  it('a real X-ray scaled to 16 bits (v * 257) decodes back to the 8-bit original exactly', async () => {
    for (const [k, src] of fixtureXrays.entries()) {
      const { px, size } = await raw8(src);
      const file = join(tmp, `scaled-${k}.png`);
      await write16(file, Uint16Array.from(px, (v) => v * 257), size);
      expect(maxAbsDiff(await decodeGrey(file, size), px)).toBe(0);
    }
  });

  it('16-bit values between the 8-bit levels round to within 1 level of value / 257', async () => {
    const { px, size } = await raw8(fixtureXrays[0]);
    // A deterministic in-between offset per pixel (0..256): what a true 16-bit detector delivers.
    const values = Uint16Array.from(px, (v, i) => Math.min(65535, v * 257 + ((i * 97) % 257)));
    const file = join(tmp, 'fine.png');
    await write16(file, values, size);
    const out = await decodeGrey(file, size);
    expect(maxAbsDiff(out, Array.from(values, (v) => v / 257))).toBeLessThanOrEqual(1);
    // and not a truncation to the high byte alone on every pixel: that would never round up
    let roundedUp = 0;
    for (let i = 0; i < out.length; i++) if (out[i] > px[i]) roundedUp++;
    expect(roundedUp).toBeGreaterThan(0);
  });

  it.skipIf(!samples)('the real NIH sample (512 px) through sharp 16-bit output matches within 1 level (needs ../shared/data/cxr-samples)', async () => {
    const src = join(samples!, '00000001_000.png');
    const { px, size } = await raw8(src);
    const file = join(tmp, 'nih16.png');
    await sharp(src).greyscale().toColourspace('grey16').png().toFile(file);
    expect((await sharp(file).metadata()).depth).toBe('ushort');
    expect(maxAbsDiff(await decodeGrey(file, size), px)).toBeLessThanOrEqual(1);
  });
});

describe('colour and palette PNGs of an X-ray decode to its grey', () => {
  it('RGB, RGBA, grey+alpha, 16-bit RGB and palette PNGs match the grey original within 1 level', async () => {
    const src = fixtureXrays[1];
    const { px, size } = await raw8(src);
    const variants: Record<string, (s: Sharp) => Sharp> = {
      rgb: (s) => s.toColourspace('srgb').png(),
      rgba: (s) => s.toColourspace('srgb').ensureAlpha().png(),
      greyAlpha: (s) => s.toColourspace('b-w').ensureAlpha().png(),
      rgb16: (s) => s.toColourspace('rgb16').png(),
      palette: (s) => s.toColourspace('srgb').png({ palette: true, colours: 256, dither: 0 }),
    };
    for (const [name, make] of Object.entries(variants)) {
      const file = join(tmp, `${name}.png`);
      await make(sharp(src).greyscale()).toFile(file);
      const meta = await sharp(file).metadata();
      const expected = { rgb: [3, 'uchar'], rgba: [4, 'uchar'], greyAlpha: [2, 'uchar'], rgb16: [3, 'ushort'], palette: [3, 'uchar'] }[name];
      expect([meta.channels, meta.depth], name).toEqual(expected);
      if (name === 'palette') expect(meta.isPalette, name).toBe(true);
      expect(maxAbsDiff(await decodeGrey(file, size), px), name).toBeLessThanOrEqual(1);
    }
  });
});
