import type { EncoderSpec, HeadSpec } from '../spec.ts';
import { type HeadOptions, projectorHead } from './projector.ts';

/**
 * DINO: the projection MLP onto an `out`-dim embedding, L2-normalised and scored against `prototypes`
 * unit vectors (cosines), the same for every crop (student) and the teacher's copy.
 */
export function dinoHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return projectorHead(encoder, { prototypes: 256, bn: true, ...opts });
}
