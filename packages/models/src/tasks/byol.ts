import type { EncoderSpec, HeadSpec } from '../spec.ts';
import { hiddenLayer } from './projector.ts';

/**
 * BYOL: the projection MLP, then the online network's predictor, an MLP of the same shape; both with
 * BatchNorm after the hidden layer (the paper's MLP: without it the projections collapsed to one
 * point). The head emits the projection and gives [projection | prediction] per view; the target
 * network (a moving-average copy) uses only the projection.
 */
export function byolHead(encoder: EncoderSpec): HeadSpec {
  const hidden = encoder.features;
  const out = 128;
  return {
    kind: 'projector',
    views: 2,
    layers: [
      ...hiddenLayer('head.fc1', hidden, 'head.bn1'),
      { layer: 'dense', name: 'head.fc2', out },
      { layer: 'emit' },
      ...hiddenLayer('head.pred1', hidden, 'head.predbn1'),
      { layer: 'dense', name: 'head.pred2', out },
    ],
  };
}
