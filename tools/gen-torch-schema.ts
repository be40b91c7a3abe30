/**
 * Writes packages/torch/cxr_torch/spec.schema.json from the TypeScript spec types
 * (train/src/engines/torch-schema.ts): run after changing an encoder, head, optimiser or loss type.
 * `npx tsx tools/gen-torch-schema.ts`; torch-schema.test.ts fails while the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { TORCH_SCHEMA_PATH } from '@cxr-ssl/torch';
import { torchInitJsonSchema } from '../packages/train/src/engines/torch-schema.ts';

writeFileSync(TORCH_SCHEMA_PATH, torchInitJsonSchema());
console.log(`wrote ${TORCH_SCHEMA_PATH}`);
