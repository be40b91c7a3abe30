export * from './types.ts';
export * from './atomic.ts';
