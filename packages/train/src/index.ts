export * from './engine.ts';
export * from './engines/index.ts';
