import type { WeightShape } from './shapes.ts';
import type { EncoderSpec, HeadSpec, ProjectorHead } from './spec.ts';

function dense(name: string, inputs: number, outputs: number): WeightShape[] {
  return [
    { name: `${name}.weight`, shape: [outputs, inputs], kind: 'dense.weight' },
    { name: `${name}.bias`, shape: [outputs], kind: 'bias' },
  ];
}

function batchNorm(name: string, channels: number): WeightShape[] {
  return [
    { name: `${name}.weight`, shape: [channels], kind: 'bn.weight' },
    { name: `${name}.bias`, shape: [channels], kind: 'bias' },
    { name: `${name}.running_mean`, shape: [channels], kind: 'bn.running_mean' },
    { name: `${name}.running_var`, shape: [channels], kind: 'bn.running_var' },
  ];
}

/** Width of the vector that feeds head.fc1: per view for a projector, views concatenated for a classifier. */
export function headInputWidth(encoder: EncoderSpec, head: HeadSpec): number {
  if (head.kind === 'projector') return encoder.features;
  return head.views * (head.proj ?? encoder.features);
}

/**
 * A projector's layers with the width each one takes in, and the widths of its output's parts (each
 * `emit`, then the last layer): the head gives their concatenation per view.
 */
export function projectorWidths(features: number, head: ProjectorHead): { inputs: number[]; parts: number[] } {
  let width = features;
  const inputs: number[] = [];
  const parts: number[] = [];
  for (const layer of head.layers) {
    inputs.push(width);
    if (layer.layer === 'dense' || layer.layer === 'cosine') width = layer.out;
    else if (layer.layer === 'emit') parts.push(width);
  }
  return { inputs, parts: [...parts, width] };
}

/**
 * Head weights in canonical order (dense kernels [out, in], like torch.nn.Linear). A classifier:
 * optional per-view `head.proj` (shared across views), then `head.fc1`, `head.fc2`. A projector: its
 * layers' weights in list order.
 */
export function headWeightsShapes(encoder: EncoderSpec, head: HeadSpec): WeightShape[] {
  if (head.kind === 'projector') {
    const { inputs } = projectorWidths(encoder.features, head);
    return head.layers.flatMap((layer, i): WeightShape[] => {
      if (layer.layer === 'dense') return dense(layer.name, inputs[i], layer.out);
      if (layer.layer === 'cosine') return [{ name: `${layer.name}.weight`, shape: [layer.out, inputs[i]], kind: 'dense.weight' }];
      if (layer.layer === 'bn') return batchNorm(layer.name, inputs[i]);
      return [];
    });
  }
  return [
    ...(head.proj ? dense('head.proj', encoder.features, head.proj) : []),
    ...dense('head.fc1', headInputWidth(encoder, head), head.hidden),
    ...dense('head.fc2', head.hidden, head.classes),
  ];
}
