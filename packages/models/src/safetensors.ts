import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import type { Weights } from './spec.ts';

/**
 * safetensors (https://github.com/huggingface/safetensors), the weights format shared by both
 * engines and the ONNX writer:
 *   [8 bytes: header length N, u64 little-endian]
 *   [N bytes: UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
 *             padded with spaces so the data starts 8-byte aligned]
 *   [data: raw little-endian tensors, offsets relative to the data start, contiguous, no gaps]
 * We write F32 in canonical (insertion) order; we read F32, F16, BF16 and F64 (converted to F32)
 * and return tensors in data-offset order, which is the canonical order for files we wrote.
 */

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8 } as const;
type Dtype = keyof typeof DTYPE_BYTES;

const TensorInfo = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
const Metadata = z.record(z.string(), z.string());

export function encodeSafetensors(weights: Weights, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = Metadata.parse(metadata);
  let offset = 0;
  for (const [name, t] of weights) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`Weight "${name}": shape [${t.shape}] holds ${count} values but data has ${t.data.length}.`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const t of weights.values()) {
    // Float32Array is host-endian; every platform we run on is little-endian, as the format wants.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function toFloat32(bytes: Uint8Array, dtype: Dtype, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(bytes);
  } else if (dtype === 'F64') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  } else if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors bytes',
): { weights: Weights; metadata: Record<string, string> } {
  function fail(why: string): never {
    throw new Error(`${source}: not a valid safetensors file (${why}). Re-export the weights or check the path.`);
  }
  if (bytes.length < 8) fail('shorter than the 8-byte header length');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.length) fail(`header length ${headerLength} runs past the end of the file`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    fail(`header is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('header is not a JSON object');
  const { __metadata__, ...tensors } = raw as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  if (__metadata__ !== undefined) {
    const parsed = Metadata.safeParse(__metadata__);
    if (!parsed.success) fail('__metadata__ must map strings to strings');
    metadata = parsed.data;
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries = Object.entries(tensors).map(([name, info]) => {
    const parsed = TensorInfo.safeParse(info);
    if (!parsed.success) return fail(`tensor "${name}": ${parsed.error.issues[0]?.message}`);
    return [name, parsed.data] as const;
  });
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  const weights: Weights = new Map();
  for (const [name, info] of entries) {
    if (!(info.dtype in DTYPE_BYTES)) fail(`tensor "${name}" has dtype ${info.dtype}; only F32, F16, BF16, F64 are read`);
    const dtype = info.dtype as Dtype;
    const count = info.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.data_offsets;
    if (end - begin !== count * DTYPE_BYTES[dtype] || end > dataLength) {
      fail(`tensor "${name}" offsets [${begin}, ${end}] do not match shape [${info.shape}] ${dtype} or the file size`);
    }
    weights.set(name, {
      shape: info.shape,
      data: toFloat32(bytes.subarray(dataStart + begin, dataStart + end), dtype, count),
    });
  }
  return { weights, metadata };
}

/** Atomic write (temp file + fsync + rename). */
export function writeSafetensors(path: string, weights: Weights, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(weights, metadata));
}

export function readSafetensors(path: string): { weights: Weights; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`Cannot read weights file ${path}: ${(err as Error).message}.`);
  }
  return decodeSafetensors(bytes, path);
}
