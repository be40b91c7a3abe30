import type { EncoderSpec, HeadSpec } from '../spec.ts';
import { type HeadOptions, projectorHead } from './projector.ts';

/**
 * BYOL: the projection MLP, then the online network's predictor (a second MLP of the same shape,
 * `head.pred1`/`head.pred2`); the head gives [projection | prediction] per view, and the target
 * network (a moving-average copy) uses only the projection.
 */
export function byolHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return projectorHead(encoder, { predictor: encoder.features, bn: true, ...opts });
}
