export * from './torch-guard.ts';
