import type { EncoderSpec, HeadSpec } from '../spec.ts';

/** Overrides of a head's defaults, e.g. `classes` = the size of a jigsaw permutation set. */
export type HeadOptions = Record<string, unknown>;

/**
 * The 2-layer projection MLP of SimCLR and MoCo v2: hidden width = the encoder's feature width,
 * a 128-dim embedding per view (the loss compares views; evaluation uses the encoder's features).
 */
export function projectorHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return { kind: 'projector', views: 2, hidden: encoder.features, out: 128, ...opts } as HeadSpec;
}
