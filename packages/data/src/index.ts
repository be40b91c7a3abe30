export * from './types.ts';
export * from './rng.ts';
export * from './samplers/index.ts';
export * from './testing.ts';
export * from './atomic.ts';
