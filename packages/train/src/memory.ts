import { freemem } from 'node:os';
import type { SampleShape } from '@cxr-ssl/data';
import type { EncoderSpec } from '@cxr-ssl/models';
import { encoderWeightsShapes, spatialSizes } from '@cxr-ssl/models';
import type { Encoded } from './methods/method.ts';

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

/**
 * One torch process's peak in a train step, from the same activation count as tfjs's: a base (the
 * interpreter with torch loaded, the optimiser's buffers), 16 bytes per encoder weight (fp32 weights,
 * gradients, momentum and a moving-average twin for MoCo/BYOL/DINO), bytes per activation float of
 * the views the trained network encodes (each op's output kept for the backward pass, once, as fp32),
 * and fewer per float of the views a moving-average copy encodes without gradient (the graph keeps
 * every op's output until its forward ends, while the trained network's are still held). Measured on
 * CPU with tools/probe/torch-memory.ts (the Python process's VmHWM, 1 thread): 4.2 bytes per trained
 * float with torch 2.13 (3.6 with torch 1.13), 1.5-3.0 more per averaged float, a base of 0.33-0.40 GiB;
 * the constants round up, so that the estimate errs high (docs/RELIABILITY.md has the table, under
 * "The torch memory estimate against measured peaks"). On CUDA (bf16 activations, the CUDA context and cuDNN's workspace in the base) they are the CPU ones
 * scaled, not measured: no GPU was at hand.
 */
export const TORCH_BYTES_PER_ACTIVATION = { cpu: { trained: 4.5, averaged: 3 }, cuda: { trained: 3, averaged: 2 } } as const;
const TORCH_BASE_BYTES = { cpu: 0.4 * 2 ** 30, cuda: 1 * 2 ** 30 } as const;
const BYTES_PER_WEIGHT = 16;

export interface TorchStepShape {
  encoder: EncoderSpec;
  /** samples per process */
  batch: number;
  /** activation floats of one sample through the trained network (all its views) */
  trained: number;
  /** the same through a moving-average copy (MoCo's keys, BYOL's target, DINO's teacher) */
  averaged: number;
  weights: number;
}

/** Activation floats of one sample's views (multi-crop's smaller views too). */
function sampleFloats(encoder: EncoderSpec, s: SampleShape): number {
  return s.views * activationFloats(encoder, s.patch) + (s.local ? s.local.views * activationFloats(encoder, s.local.patch) : 0);
}

/** A step's shape for the torch estimate: what the method encodes at the run's size (MethodRun.encodes), `batch` samples per process. */
export function torchStepShape(encoder: EncoderSpec, encodes: Encoded, batch: number): TorchStepShape {
  const weights = encoderWeightsShapes(encoder).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return { encoder, batch, trained: sampleFloats(encoder, encodes.trained), averaged: encodes.averaged ? sampleFloats(encoder, encodes.averaged) : 0, weights };
}

export function torchStepBytes(s: TorchStepShape, device: 'cpu' | 'cuda'): number {
  const per = TORCH_BYTES_PER_ACTIVATION[device];
  return TORCH_BASE_BYTES[device] + BYTES_PER_WEIGHT * s.weights + s.batch * (per.trained * s.trained + per.averaged * s.averaged);
}

/**
 * Bytes a torch run needs of one memory pool: the `world` processes each train an equal slice of the
 * batch, and `sharing` of them draw on this pool (on CPU every process of this machine takes host
 * memory; on CUDA each GPU holds one).
 */
export function torchRunBytes(s: TorchStepShape, device: 'cpu' | 'cuda', world = 1, sharing = 1): number {
  return sharing * torchStepBytes({ ...s, batch: Math.ceil(s.batch / world) }, device);
}

/** The largest batch below `s.batch` (a multiple of `world`: equal slices) whose run fits `available` bytes; undefined when none does. */
export function torchBatchThatFits(s: TorchStepShape, device: 'cpu' | 'cuda', available: number, world = 1, sharing = 1): number | undefined {
  for (let b = s.batch - 1; b >= world; b--) {
    if (b % world === 0 && torchRunBytes({ ...s, batch: b }, device, world, sharing) <= available) return b;
  }
  return undefined;
}

/** Host memory a run can use now: what the kernel reports available, within this process's cgroup limit if it has one. */
export function availableMemory(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return Math.min(freemem(), limit > 0 ? limit : Number.POSITIVE_INFINITY);
}
