import type { EncoderSpec, HeadSpec } from '../spec.ts';
import { type HeadOptions, projectorHead } from './projector.ts';

/** DINO: the projection MLP onto `out` prototypes, the same for every crop (student) and the teacher's copy. */
export function dinoHead(encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return projectorHead(encoder, { out: 1024, ...opts });
}
