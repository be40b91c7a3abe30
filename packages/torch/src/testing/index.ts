export * from './torch-guard.ts';
export * from './render-files.ts';
