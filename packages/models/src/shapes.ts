import type { EncoderSpec } from './spec.ts';

/** A weight's canonical name, shape and role (the role picks its initialisation). */
export interface WeightShape {
  name: string;
  shape: number[];
  kind: 'conv.weight' | 'dense.weight' | 'bias';
}

/** Encoder weights in canonical order: conv kernels OIHW [out, in/groups, k, k], then bias [out]. */
export function encoderWeightsShapes(encoder: EncoderSpec): WeightShape[] {
  const shapes: WeightShape[] = [];
  for (const op of encoder.ops) {
    if (op.op !== 'conv') continue;
    shapes.push({ name: `${op.name}.weight`, shape: [op.out, op.in / op.groups, op.k, op.k], kind: 'conv.weight' });
    if (op.bias) shapes.push({ name: `${op.name}.bias`, shape: [op.out], kind: 'bias' });
  }
  return shapes;
}
