import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TORCH_SCHEMA_PATH } from '@cxr-ssl/torch';
import { torchInitJsonSchema } from './torch-schema.ts';

describe('the spec schema the Python engine validates against', () => {
  it('is the one generated from the TypeScript types (else: npx tsx tools/gen-torch-schema.ts)', () => {
    expect(readFileSync(TORCH_SCHEMA_PATH, 'utf8')).toBe(torchInitJsonSchema());
  });
});
