import type { EncoderSpec } from './spec.ts';

/** A weight's canonical name, shape and role (the role picks its initialisation). */
export interface WeightShape {
  name: string;
  shape: number[];
  kind: 'conv.weight' | 'dense.weight' | 'bias' | 'bn.weight' | 'bn.running_mean' | 'bn.running_var';
  /** a conv's groups (depthwise: its channels): each input reaches out / groups outputs */
  groups?: number;
}

/**
 * Encoder weights in canonical order (torch's state_dict order): conv kernels OIHW
 * [out, in/groups, k, k] then bias [out]; BatchNorm weight, bias, running_mean, running_var [C].
 */
export function encoderWeightsShapes(encoder: EncoderSpec): WeightShape[] {
  const shapes: WeightShape[] = [];
  for (const op of encoder.ops) {
    if (op.op === 'conv') {
      shapes.push({ name: `${op.name}.weight`, shape: [op.out, op.in / op.groups, op.k, op.k], kind: 'conv.weight', groups: op.groups });
      if (op.bias) shapes.push({ name: `${op.name}.bias`, shape: [op.out], kind: 'bias' });
    } else if (op.op === 'bn') {
      const c = [op.channels];
      shapes.push({ name: `${op.name}.weight`, shape: c, kind: 'bn.weight' });
      shapes.push({ name: `${op.name}.bias`, shape: c, kind: 'bias' });
      shapes.push({ name: `${op.name}.running_mean`, shape: c, kind: 'bn.running_mean' });
      shapes.push({ name: `${op.name}.running_var`, shape: c, kind: 'bn.running_var' });
    }
  }
  return shapes;
}
