import type { EncoderSpec } from '@cxr-ssl/models';
import { spatialSizes } from '@cxr-ssl/models';

/**
 * Peak memory of a training step, known before the run starts. The forward pass keeps every op's
 * output for the backward pass, and the backward pass makes a gradient of each: so the step's
 * memory is proportional to the floats the encoder's ops produce per view, times views, times
 * the batch. The factor per engine is measured (tools/probe/tfjs-memory.ts), not derived.
 */

/** Floats the encoder's ops output for one `size` x `size` view (sum over ops of channels x side²). */
export function activationFloats(encoder: EncoderSpec, size: number): number {
  const sides = spatialSizes(encoder, size);
  const channels = new Map<string, number>();
  let previous: number = encoder.channels;
  let total = 0;
  for (const op of encoder.ops) {
    const input = 'inputs' in op ? op.inputs[0] : op.input;
    const inChannels = input === undefined ? previous : (channels.get(input) ?? previous);
    const c = op.op === 'conv' ? op.out : op.op === 'concat' ? op.inputs.reduce((n, i) => n + (channels.get(i) ?? 0), 0) : inChannels;
    channels.set(op.id, c);
    previous = c;
    const side = op.op === 'gap' ? 1 : (sides.get(op.id) ?? size);
    total += c * side * side;
  }
  return total;
}

/**
 * Bytes the tfjs wasm heap reaches in one train step (measured with tools/probe/tfjs-memory.ts on
 * vgg-small-bn and vgg-small: heap ≈ BYTES_PER_ACTIVATION × activation floats + the weights).
 */
export const TFJS_BYTES_PER_ACTIVATION = 40;
/** The tfjs wasm heap cannot grow past 4 GiB (wasm32); leave room for the weights, optimiser and the heap's own slack. */
export const TFJS_WASM_HEAP_LIMIT = 3 * 2 ** 30;

export interface StepShape {
  encoder: EncoderSpec;
  /** views per sample and their side (the method's sampler shape at the run's size) */
  views: number;
  patch: number;
  batch: number;
}

export function tfjsStepBytes(s: StepShape): number {
  return TFJS_BYTES_PER_ACTIVATION * s.batch * s.views * activationFloats(s.encoder, s.patch);
}

/**
 * The largest micro-batch (a divisor of the batch, so every micro-batch has the same size and the
 * accumulated gradient is the full batch's mean) whose step fits the tfjs wasm heap; undefined
 * when not even one sample fits.
 */
export function tfjsMicroBatch(s: StepShape, limit = TFJS_WASM_HEAP_LIMIT): number | undefined {
  for (let m = s.batch; m >= 1; m--) {
    if (s.batch % m === 0 && tfjsStepBytes({ ...s, batch: m }) <= limit) return m;
  }
  return undefined;
}

export const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
