export * from './engine.ts';
export * from './engines/index.ts';
export * from './config.ts';
export * from './checkpoint.ts';
export * from './metrics-log.ts';
export * from './loop.ts';
export { taskProblem } from './task-options.ts';
export * from './schedule.ts';
