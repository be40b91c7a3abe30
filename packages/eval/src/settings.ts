import { z } from 'zod';
import { commaList, int } from './option-fields.ts';
import { PROTOCOL_NAMES, PROTOCOLS, type ProtocolName, STUDY_PROTOCOL } from './protocols/index.ts';
import { SessionOptions } from './session.ts';
import { TargetOption } from './targets.ts';

/** How frozen features are extracted: onnxruntime and torch agree within 1e-3, so none of it is recorded in a row. */
export const ExtractionSettings = z
  .object({
    features: z.enum(['auto', 'ort', 'torch']).default('auto').describe('feature extraction; auto: torch when its Python sees CUDA, else onnxruntime'),
    provider: SessionOptions.shape.provider.describe("onnxruntime's execution provider"),
    batchSize: int().positive().default(64).describe('feature-extraction batch'),
  })
  .strict();

const unique = (xs: unknown[]) => new Set(xs).size === xs.length;
const once = (what: string) => ({ message: `each ${what} once (a repeat would evaluate the same cell twice)` });

/** Each protocol's options under its name, filled with its defaults when absent. */
const protocolOptions = Object.fromEntries(PROTOCOL_NAMES.map((n) => [n, (PROTOCOLS[n].options as z.ZodObject).prefault({})])) as {
  [K in ProtocolName]: z.ZodPrefault<(typeof PROTOCOLS)[K]['options']>;
};

/**
 * What to evaluate and how: the `eval:` block of a reproduce config, and what the flags of `eval` and
 * `linear` become. Made from the protocol registry: a protocol's options live under its name.
 */
const EvalSettingsFields = z
  .object({
    protocols: commaList(z.enum(PROTOCOL_NAMES))
      .refine(unique, once('protocol'))
      .default([STUDY_PROTOCOL])
      .describe(`comma-separated: ${PROTOCOL_NAMES.join(' | ')}`),
    fractions: commaList(z.coerce.number().gt(0, 'each fraction must be in (0, 1]: above 0').max(1, 'each fraction must be in (0, 1]: at most 1 (all labels)'))
      .refine(unique, once('fraction'))
      .default([1])
      .describe('label fractions of the train split, nested per seed, e.g. 0.01,0.1,1 (1 = all labels)'),
    seeds: int().positive().default(1).describe('seeds per cell: head seeds and fraction draws'),
    target: TargetOption,
    ...ExtractionSettings.shape,
    ...protocolOptions,
  })
  .strict();

/** What a grid of rows is: protocols, fractions, seeds and the target (the flags `eval` and reproduce's `eval:` lead with). */
export const EvalGrid = EvalSettingsFields.pick({ protocols: true, fractions: true, seeds: true, target: true });

export const EvalSettings = EvalSettingsFields.superRefine((s, ctx) => {
    for (const p of s.protocols) {
      const can = PROTOCOLS[p].targets;
      if (can && !can.includes(s.target)) {
        ctx.addIssue({ code: 'custom', path: ['target'], message: `--target ${s.target}: the ${p} protocol predicts ${can.join(' or ')} only; drop it from --protocol for this target` });
      }
    }
  });
export type EvalSettings = z.infer<typeof EvalSettings>;

/** The options a row of `protocol` records, and must match to be reused: its settings less the runtime ones (an engine choice). */
export function recordedOptions(protocol: ProtocolName, s: EvalSettings): Record<string, unknown> {
  const runtime: readonly string[] = PROTOCOLS[protocol].runtimeOptions ?? [];
  return Object.fromEntries(Object.entries(s[protocol]).filter(([k]) => !runtime.includes(k)));
}
