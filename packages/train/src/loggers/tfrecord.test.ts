import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c, readTfrecords, tfrecord } from './tfrecord.ts';

describe('CRC-32C against published vectors', () => {
  // RFC 3720 (iSCSI) appendix B.4, and the "123456789" check value of the CRC catalogue
  const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));
  it.each([
    ['32 bytes of zeros', bytes(32, () => 0), 0x8a9136aa],
    ['32 bytes of 0xff', bytes(32, () => 0xff), 0x62a8ab43],
    ['32 bytes ascending 0..31', bytes(32, (i) => i), 0x46dd794e],
    ['32 bytes descending 31..0', bytes(32, (i) => 31 - i), 0x113fdb5c],
    ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ])('%s', (_, data, want) => {
    expect(crc32c(data)).toBe(want);
  });
  it('masks as TensorFlow does: rotate right 15, add 0xa282ead8 (mod 2^32)', () => {
    const c = 0xe3069283;
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
    // the empty string: CRC 0, so the masked value is the constant itself
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });
});

describe('TFRecord framing', () => {
  it('round-trips records and rejects a flipped bit, naming the offset', () => {
    const recs = [new TextEncoder().encode('first'), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i % 256)];
    const file = new Uint8Array(recs.reduce((n, r) => n + r.length + 16, 0));
    let pos = 0;
    for (const r of recs) {
      const f = tfrecord(r);
      file.set(f, pos);
      pos += f.length;
    }
    expect(readTfrecords(file).map((r) => [...r])).toEqual(recs.map((r) => [...r]));
    const bad = file.slice();
    bad[14] ^= 1; // inside the first record's data
    expect(() => readTfrecords(bad, 'x.tfevents')).toThrow(/x\.tfevents: bad data CRC at byte 0/);
  });
});
