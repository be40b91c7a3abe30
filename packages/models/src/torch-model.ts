import { z } from 'zod';
import { projectorWidths } from './heads.ts';
import { ClassifierHead, EncoderSpec, HeadSpec, InputNormalisation, inputNormalisation, ProjectorHead } from './spec.ts';

/**
 * The model as the torch engine (packages/torch) receives it, in every message that hands it one (the
 * engine's `init`, feature extraction, the collapse probe, the raw benchmark, the train-health probe):
 * the specs, parsed (every default filled in), plus what Python would otherwise work out with
 * TypeScript's rules: the input normalisation as numbers, and a projector's widths. cxr_torch reads
 * these as they are and computes none of them.
 */
const Width = z.number().int().positive();

/** The encoder spec and `normalisation`: its inputNorm as numbers (`inputNormalisation`). */
export const TorchEncoder = EncoderSpec.extend({ normalisation: InputNormalisation });
export type TorchEncoder = z.infer<typeof TorchEncoder>;

/** A projector with `inputs`: the width each layer takes in, and `parts`: its output's parts (projectorWidths). */
export const TorchProjector = ProjectorHead.extend({ inputs: z.array(Width), parts: z.array(Width).min(1) });
export const TorchHead = z.union([TorchProjector, ClassifierHead]);
export type TorchHead = z.infer<typeof TorchHead>;

export function torchEncoder(encoder: EncoderSpec): TorchEncoder {
  return { ...encoder, normalisation: inputNormalisation(encoder.inputNorm) };
}

export function torchHead(encoder: EncoderSpec, head: HeadSpec): TorchHead {
  const parsed = HeadSpec.parse(head);
  if (parsed.kind !== 'projector') return parsed;
  return { ...parsed, ...projectorWidths(encoder.features, parsed) };
}

export function torchModel(encoder: EncoderSpec, head: HeadSpec): { encoder: TorchEncoder; head: TorchHead } {
  return { encoder: torchEncoder(encoder), head: torchHead(encoder, head) };
}
