// @cxr-ssl/data without decoding (sharp, DICOM) and adapters (see lite-hooks.mjs).
export * from '../../packages/data/src/types.ts';
export * from '../../packages/data/src/rng.ts';
export * from '../../packages/data/src/samplers/index.ts';
export * from '../../packages/data/src/cache/format.ts';
export * from '../../packages/data/src/cache/read.ts';
export * from '../../packages/data/src/batches.ts';
export * from '../../packages/data/src/batch-plans.ts';
export * from '../../packages/data/src/augment/index.ts';
export * from '../../packages/data/src/pooled.ts';
