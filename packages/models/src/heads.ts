import type { WeightShape } from './shapes.ts';
import type { EncoderSpec, HeadSpec } from './spec.ts';

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
 * Head weights in canonical order (dense kernels [out, in], like torch.nn.Linear):
 * optional per-view `head.proj` (shared across views), then `head.fc1`, `head.fc2`; a projector's
 * optional BatchNorm follows its hidden layer, then its predictor or its prototypes come last.
 */
export function headWeightsShapes(encoder: EncoderSpec, head: HeadSpec): WeightShape[] {
  if (head.kind === 'projector') {
    const bn = (name: string, channels: number) => (head.bn ? batchNorm(name, channels) : []);
    const predictor = head.predictor
      ? [...dense('head.pred1', head.out, head.predictor), ...bn('head.predbn1', head.predictor), ...dense('head.pred2', head.predictor, head.out)]
      : [];
    const prototypes: WeightShape[] = head.prototypes ? [{ name: 'head.proto.weight', shape: [head.prototypes, head.out], kind: 'dense.weight' }] : [];
    return [...dense('head.fc1', encoder.features, head.hidden), ...bn('head.bn1', head.hidden), ...dense('head.fc2', head.hidden, head.out), ...predictor, ...prototypes];
  }
  return [
    ...(head.proj ? dense('head.proj', encoder.features, head.proj) : []),
    ...dense('head.fc1', headInputWidth(encoder, head), head.hidden),
    ...dense('head.fc2', head.hidden, head.classes),
  ];
}
