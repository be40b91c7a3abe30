import type { WeightShape } from './shapes.ts';
import type { EncoderSpec, HeadSpec } from './spec.ts';

function dense(name: string, inputs: number, outputs: number): WeightShape[] {
  return [
    { name: `${name}.weight`, shape: [outputs, inputs], kind: 'dense.weight' },
    { name: `${name}.bias`, shape: [outputs], kind: 'bias' },
  ];
}

/** Width of the vector that feeds head.fc1: per view for a projector, views concatenated for a classifier. */
export function headInputWidth(encoder: EncoderSpec, head: HeadSpec): number {
  if (head.kind === 'projector') return encoder.features;
  return head.views * (head.proj ?? encoder.features);
}

/**
 * Head weights in canonical order (dense kernels [out, in], like torch.nn.Linear):
 * optional per-view `head.proj` (shared across views), then `head.fc1`, `head.fc2`.
 */
export function headWeightsShapes(encoder: EncoderSpec, head: HeadSpec): WeightShape[] {
  if (head.kind === 'projector') {
    const predictor = head.predictor ? [...dense('head.pred1', head.out, head.predictor), ...dense('head.pred2', head.predictor, head.out)] : [];
    return [...dense('head.fc1', encoder.features, head.hidden), ...dense('head.fc2', head.hidden, head.out), ...predictor];
  }
  return [
    ...(head.proj ? dense('head.proj', encoder.features, head.proj) : []),
    ...dense('head.fc1', headInputWidth(encoder, head), head.hidden),
    ...dense('head.fc2', head.hidden, head.classes),
  ];
}
