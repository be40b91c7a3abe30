import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.ts';
import type { Weights } from './spec.ts';

const weights: Weights = new Map([
  ['features.0.weight', { shape: [2, 1, 1, 1], data: new Float32Array([1.5, -2]) }],
  ['features.0.bias', { shape: [2], data: new Float32Array([0.25, 3]) }],
  ['head.fc2.weight', { shape: [1, 3], data: new Float32Array([7, 8, 9]) }],
]);

describe('safetensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lays bytes out per the spec: u64 LE header length, space-padded JSON, contiguous F32 data', () => {
    const bytes = encodeSafetensors(weights, { format: 'pt' });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(headerText.trimEnd().length).toBeGreaterThan(0);
    expect(headerText.slice(headerText.trimEnd().length)).toMatch(/^ *$/);
    const header = JSON.parse(headerText);
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['features.0.weight']).toEqual({ dtype: 'F32', shape: [2, 1, 1, 1], data_offsets: [0, 8] });
    expect(header['features.0.bias']).toEqual({ dtype: 'F32', shape: [2], data_offsets: [8, 16] });
    expect(header['head.fc2.weight']).toEqual({ dtype: 'F32', shape: [1, 3], data_offsets: [16, 28] });
    expect(bytes.length).toBe(8 + n + 28);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-2);
    expect(view.getFloat32(8 + n + 16 + 8, true)).toBe(9);
  });

  it('round-trips weights, order and metadata through a file, leaving no temp file', () => {
    const path = join(dir, 'w.safetensors');
    writeSafetensors(path, weights, { step: '12' });
    const back = readSafetensors(path);
    expect([...back.weights.keys()]).toEqual([...weights.keys()]);
    for (const [name, t] of weights) expect(back.weights.get(name)).toEqual(t);
    expect(back.metadata).toEqual({ step: '12' });
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
  });

  it('reads F16, BF16 and F64 tensors as F32', () => {
    const header = JSON.stringify({
      a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      c: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
      pad: { dtype: 'F16', shape: [1], data_offsets: [6, 8] },
    });
    const bytes = new Uint8Array(8 + header.length + 16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const d = 8 + header.length;
    view.setUint16(d, 0x3c00, true); // 1.0
    view.setUint16(d + 2, 0xc500, true); // -5.0
    view.setUint16(d + 4, 0x4049, true); // bf16 3.140625
    view.setUint16(d + 6, 0x0001, true); // smallest f16 subnormal
    view.setFloat64(d + 8, 0.1, true);
    const { weights: w } = decodeSafetensors(bytes);
    expect([...w.get('a')!.data]).toEqual([1, -5]);
    expect(w.get('b')!.data[0]).toBe(3.140625);
    expect(w.get('pad')!.data[0]).toBe(2 ** -24);
    expect(w.get('c')!.data[0]).toBe(Math.fround(0.1));
    expect([...w.keys()]).toEqual(['a', 'b', 'pad', 'c']);
  });

  it('names the file and the problem for broken input', () => {
    const path = join(dir, 'broken.safetensors');
    const bytes = encodeSafetensors(weights).subarray(0, 40);
    writeSafetensors(join(dir, 'ok.safetensors'), weights);
    expect(() => decodeSafetensors(bytes, path)).toThrow(/broken\.safetensors: not a valid safetensors file/);
    expect(() => readSafetensors(join(dir, 'missing.safetensors'))).toThrow(/missing\.safetensors/);
  });
});
