export * from './engine.ts';
export * from './engines/index.ts';
export * from './config.ts';
export * from './checkpoint.ts';
export * from './metrics-log.ts';
export * from './loop.ts';
export { methodHead, methodLoss, methodProblem, runOptions } from './method-options.ts';
export { METHODS, type Method } from './methods/index.ts';
export * from './schedule.ts';
