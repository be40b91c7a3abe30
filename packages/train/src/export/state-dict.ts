import { writeFileAtomic } from '@cxr-ssl/atomic';
import type { EncoderSpec, Weights } from '@cxr-ssl/models';

/**
 * A torch `state_dict` as safetensors: F32 weights and buffers plus each BatchNorm's
 * `num_batches_tracked` (I64, shape []), which torch's strict `load_state_dict` requires and our
 * canonical weights do not keep (no runtime of ours reads it). Order: the spec's, torch's own.
 */
export type StateEntry = { name: string; dtype: 'F32'; shape: number[]; data: Float32Array } | { name: string; dtype: 'I64'; shape: []; value: bigint };

export function hubStateDict(spec: EncoderSpec, weights: Weights, steps: number): StateEntry[] {
  const out: StateEntry[] = [];
  const take = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`the encoder's weights lack ${name} (encoder ${spec.name})`);
    out.push({ name, dtype: 'F32', shape: t.shape, data: t.data });
  };
  for (const op of spec.ops) {
    if (op.op === 'conv') {
      take(`${op.name}.weight`);
      if (op.bias) take(`${op.name}.bias`);
    } else if (op.op === 'bn') {
      for (const k of ['weight', 'bias', 'running_mean', 'running_var']) take(`${op.name}.${k}`);
      // torch counts train-mode forwards; we record the training updates (it matters only for momentum=None)
      out.push({ name: `${op.name}.num_batches_tracked`, dtype: 'I64', shape: [], value: BigInt(steps) });
    }
  }
  return out;
}

/** The safetensors bytes of a state dict (header JSON padded to 8 bytes, data contiguous in order). */
export function encodeStateDict(entries: StateEntry[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    let bytes: Uint8Array;
    if (e.dtype === 'F32') {
      if (e.shape.reduce((a, b) => a * b, 1) !== e.data.length) throw new Error(`${e.name}: shape [${e.shape}] does not match ${e.data.length} values`);
      bytes = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    } else {
      bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigInt64(0, e.value, true);
    }
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.byteLength;
  }
  return out;
}

export function writeStateDict(path: string, entries: StateEntry[], metadata: Record<string, string>): void {
  writeFileAtomic(path, encodeStateDict(entries, metadata));
}
