import type { EncoderSpec, HeadSpec } from '../spec.ts';
import { type HeadOptions, hiddenLayer } from './projector.ts';

/**
 * DINO: the projection MLP (BatchNorm after the hidden layer: DINO's `use_bn_in_head`) onto a 128-dim
 * embedding, scored against `prototypes` unit vectors (cosines: the weight-normalised last layer, gain
 * 1); the same for every crop (student) and the teacher's copy. Unbounded logits instead sat far below
 * DINO's temperatures: the teacher stayed uniform and the loss at ln K.
 */
export function dinoHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  const { prototypes } = opts as { prototypes?: number };
  // its default is the method's option (train/src/methods/dino.ts), written once there
  if (!prototypes) throw new Error('dinoHead: pass the number of prototypes (the method option `prototypes`)');
  return {
    kind: 'projector',
    views: 2,
    layers: [...hiddenLayer('head.fc1', encoder.features, 'head.bn1'), { layer: 'dense', name: 'head.fc2', out: 128 }, { layer: 'cosine', name: 'head.proto', out: prototypes }],
  };
}
