import { type EncoderSpec, HeadSpec } from '../spec.ts';
import { byolHead } from './byol.ts';
import { contextHead } from './context.ts';
import { dinoHead } from './dino.ts';
import { jigsawHead } from './jigsaw.ts';
import { mocoHead } from './moco.ts';
import type { HeadOptions } from './projector.ts';
import { rotationHead } from './rotation.ts';
import { simclrHead } from './simclr.ts';

export { byolHead, contextHead, dinoHead, jigsawHead, mocoHead, rotationHead, simclrHead };
export type { HeadOptions } from './projector.ts';
export type HeadFactory = (encoder: EncoderSpec, opts?: HeadOptions) => HeadSpec;

/** Each method's pretraining head, one file per method. */
export const HEADS: Record<string, HeadFactory> = {
  context: contextHead,
  jigsaw: jigsawHead,
  rotation: rotationHead,
  simclr: simclrHead,
  moco: mocoHead,
  byol: byolHead,
  dino: dinoHead,
};

/** The head of `method` for `encoder`; `opts` overrides defaults (undefined values are ignored). */
export function headSpec(method: string, encoder: EncoderSpec, opts: HeadOptions = {}): HeadSpec {
  const factory = HEADS[method];
  if (!factory) throw new Error(`Unknown method "${method}". Known methods: ${Object.keys(HEADS).join(', ')}.`);
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return HeadSpec.parse(factory(encoder, defined));
}
