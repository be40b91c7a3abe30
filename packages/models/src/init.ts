import { headWeightsShapes } from './heads.ts';
import { fillNormal } from './init-rng.ts';
import { encoderWeightsShapes, type WeightShape } from './shapes.ts';
import type { EncoderSpec, HeadSpec, Weights } from './spec.ts';

/** torchvision VGG's init: dense layers normal(0, 0.01). */
const DENSE_STD = 0.01;

function initOne(w: WeightShape, seed: number): Float32Array {
  const size = w.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (w.kind === 'bias') return data;
  if (w.kind === 'dense.weight') return fillNormal(data, DENSE_STD, seed, w.name);
  // Kaiming normal, mode fan_out, relu gain: std = sqrt(2 / (out * k * k)) (torch's fan_out for OIHW).
  const [out, , kh, kw] = w.shape;
  return fillNormal(data, Math.sqrt(2 / (out * kh * kw)), seed, w.name);
}

/**
 * Fresh canonical weights (encoder, then head if given), initialised like torchvision's VGG:
 * Kaiming normal (fan_out, relu) conv kernels, normal(0, 0.01) dense kernels, zero biases.
 * Deterministic: the same (specs, seed) always gives the same bytes.
 */
export function initWeights(encoder: EncoderSpec, head: HeadSpec | undefined, seed: number): Weights {
  const shapes = [...encoderWeightsShapes(encoder), ...(head ? headWeightsShapes(encoder, head) : [])];
  const weights: Weights = new Map();
  for (const w of shapes) weights.set(w.name, { shape: w.shape, data: initOne(w, seed) });
  return weights;
}
