import { TorchEncoder, TorchHead } from '@cxr-ssl/models';
import { z } from 'zod';
import { LossSpecSchema, OptimizerConfig } from '../engine.ts';

/**
 * What the torch engine's `init` request carries of the model and method, as the JSON Schema the
 * Python side validates it against (packages/torch/cxr_torch/spec.schema.json, TORCH_SCHEMA_PATH, written from this by
 * `npx tsx tools/gen-torch-schema.ts`; a test keeps the file up to date). Output types: every
 * default is filled in by TypeScript, so Python has none of its own; the model is `torchModel`'s
 * (the input normalisation and a projector's widths as numbers, so Python computes none of them).
 */
export const TorchInitSpec = z.object({ encoder: TorchEncoder, head: TorchHead, optimizer: OptimizerConfig, loss: LossSpecSchema });

export function torchInitJsonSchema(): string {
  const schema = z.toJSONSchema(TorchInitSpec, { io: 'output', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 1)}\n`;
}
