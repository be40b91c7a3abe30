import type { EncoderSpec } from './spec.ts';

/**
 * The spatial size (side, px) each op of the encoder produces from a `size` x `size` view, by the
 * ops' own arithmetic (conv and the pools: floor((s + 2 pad - k) / stride) + 1; 'same': ceil(s / stride)).
 */
export function spatialSizes(encoder: EncoderSpec, size: number): Map<string, number> {
  const out = new Map<string, number>();
  let previous = size;
  for (const op of encoder.ops) {
    const input = 'inputs' in op ? op.inputs[0] : op.input;
    const s = input === undefined ? previous : (out.get(input) ?? previous);
    let y = s;
    if (op.op === 'conv') y = op.pad === 'same' ? Math.ceil(s / op.stride) : Math.floor((s + 2 * op.pad - op.k) / op.stride) + 1;
    else if (op.op === 'maxpool') y = Math.floor((s + 2 * op.pad - op.k) / op.stride) + 1;
    else if (op.op === 'avgpool') y = Math.floor((s - op.k) / op.stride) + 1;
    out.set(op.id, y);
    previous = y;
  }
  return out;
}

/** The smallest view side (px) the encoder can take: every op keeps at least one pixel. */
export function minimumViewSize(encoder: EncoderSpec): number {
  for (let s = 1; s <= 4096; s++) if ([...spatialSizes(encoder, s).values()].every((v) => v >= 1)) return s;
  return Number.POSITIVE_INFINITY;
}
