import type { EncoderSpec, HeadSpec } from '../spec.ts';
import type { HeadOptions } from './projector.ts';

/**
 * Jigsaw (Noroozi & Favaro 2016): 9 tiles, each projected to 64 dims by a shared dense layer
 * (keeps fc1 small: 9 x 64 inputs instead of 9 x 512), predict the permutation. `classes` is the
 * size of the permutation set (the study: 100).
 */
export function jigsawHead(_encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return { kind: 'classifier', views: 9, proj: 64, hidden: 512, classes: 100, ...opts };
}
