import type { EncoderSpec, HeadSpec } from '../spec.ts';
import type { HeadOptions } from './projector.ts';

/** Context (Doersch et al. 2015): centre patch + one neighbour, predict which of 8 neighbours. */
export function contextHead(_encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  return { kind: 'classifier', views: 2, hidden: 256, classes: 8, ...opts };
}
