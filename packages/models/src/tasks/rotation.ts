import type { EncoderSpec, HeadSpec } from '../spec.ts';
import type { HeadOptions } from './projector.ts';

/** Rotation (Gidaris et al. 2018): one view, predict 0/90/180/270 degrees. */
export function rotationHead(_encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return { kind: 'classifier', views: 1, hidden: 256, classes: 4, ...opts };
}
