import { type EncoderSpec, HeadSpec } from '../spec.ts';
import { contextHead } from './context.ts';
import { jigsawHead } from './jigsaw.ts';
import { rotationHead } from './rotation.ts';

export type HeadFactory = (encoder: EncoderSpec, opts?: Partial<HeadSpec>) => HeadSpec;

/** Pretext head defaults, one file per task. */
export const TASK_HEADS: Record<string, HeadFactory> = {
  context: contextHead,
  jigsaw: jigsawHead,
  rotation: rotationHead,
};

/** The head of `task` for `encoder`; `opts` overrides defaults (e.g. `classes` = permutations). */
export function headSpec(task: string, encoder: EncoderSpec, opts: Partial<HeadSpec> = {}): HeadSpec {
  const factory = TASK_HEADS[task];
  if (!factory) {
    throw new Error(`Unknown pretext task "${task}". Known tasks: ${Object.keys(TASK_HEADS).join(', ')}.`);
  }
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return HeadSpec.parse(factory(encoder, defined));
}

export { contextHead, jigsawHead, rotationHead };
