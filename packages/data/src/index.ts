export * from './types.ts';
export * from './adapters/index.ts';
export * from './atomic.ts';
export * from './decode.ts';
export * from './rng.ts';
export * from './samplers/index.ts';
export * from './split.ts';
export * from './testing.ts';
