import type { EncoderSpec, HeadLayer, HeadSpec } from '../spec.ts';

/** Overrides of a head's defaults, e.g. `classes` = the size of a jigsaw permutation set. */
export type HeadOptions = Record<string, unknown>;

/** A hidden layer of an MLP head: dense `name` to `width`, BatchNorm `bn` when named, relu. */
export function hiddenLayer(name: string, width: number, bn?: string): HeadLayer[] {
  return [{ layer: 'dense', name, out: width }, ...(bn ? [{ layer: 'bn' as const, name: bn }] : []), { layer: 'relu' }];
}

/**
 * The 2-layer projection MLP of SimCLR and MoCo v2 (`head.fc1` + relu -> `head.fc2`): hidden width =
 * the encoder's feature width, a 128-dim embedding per view (the loss compares views; evaluation uses
 * the encoder's features). `hidden`, `out` and `views` may be overridden.
 */
export function projectorHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  const { views = 2, hidden = encoder.features, out = 128 } = opts as { views?: number; hidden?: number; out?: number };
  return { kind: 'projector', views, layers: [...hiddenLayer('head.fc1', hidden), { layer: 'dense', name: 'head.fc2', out }] };
}
