import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGrey, decodeGreySizes } from './decode.ts';
import { fixtureDir, sharedDataDir } from './testing/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const xray = join(fixtureDir(), 'train', 'NORMAL', 'IM-0115-0001.png');

async function direct(path: string, size: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(path).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer());
}

describe('decodeGrey', () => {
  it('equals a direct sharp decode of a real X-ray, for one or several sizes', async () => {
    const [a64, a32] = await decodeGreySizes(xray, [64, 32]);
    expect(a64).toEqual(await direct(xray, 64));
    expect(a32).toEqual(await direct(xray, 32));
    expect(await decodeGrey(xray, 32)).toEqual(a32);
    expect((await decodeGrey(xray, 128)).length).toBe(128 * 128);
  });

  it('reads 16-bit grey, RGB and RGBA versions of the same X-ray as the same grey pixels', async () => {
    const grey = await decodeGrey(xray, 128);
    const png16 = join(tmp, 'x16.png');
    await sharp(xray).toColourspace('grey16').png().toFile(png16);
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const rgba = join(tmp, 'rgba.png');
    await sharp(xray).toColourspace('srgb').ensureAlpha().png().toFile(rgba);
    expect((await sharp(rgba).metadata()).channels).toBe(4);
    const jpg = join(tmp, 'x.jpg');
    await sharp(xray).jpeg({ quality: 95 }).toFile(jpg);
    expect(await decodeGrey(png16, 128)).toEqual(grey);
    const fromRgba = await decodeGrey(rgba, 128);
    let maxDiff = 0;
    for (let i = 0; i < grey.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fromRgba[i] - grey[i]));
    expect(maxDiff).toBeLessThanOrEqual(1); // RGB -> luminance rounding
    const fromJpg = await decodeGrey(jpg, 128);
    let mad = 0;
    for (let i = 0; i < grey.length; i++) mad += Math.abs(fromJpg[i] - grey[i]);
    expect(mad / grey.length).toBeLessThan(2); // lossy, but the same image
  });

  it('names the file it cannot decode', async () => {
    const bad = join(tmp, 'notes.png');
    writeFileSync(bad, 'this is not an image');
    await expect(decodeGrey(bad, 32)).rejects.toThrow(/cannot decode image .*notes\.png/);
    await expect(decodeGrey(join(tmp, 'missing.png'), 32)).rejects.toThrow(/missing\.png/);
  });

  const samples = sharedDataDir() && join(sharedDataDir()!, 'cxr-samples');
  it.skipIf(!samples)('decodes the NIH PNG and the RGB JPEG of ../shared/data/cxr-samples (skipped: absent)', async () => {
    for (const f of ['00000001_000.png', '16747_3_1.jpg']) {
      const px = await decodeGrey(join(samples!, f), 64);
      expect(px.length).toBe(64 * 64);
      expect(new Set(px).size).toBeGreaterThan(50);
    }
  });
});
