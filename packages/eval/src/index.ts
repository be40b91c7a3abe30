export * from './metrics.ts';
export * from './bootstrap.ts';
export * from './linear.ts';
export * from './evaluate.ts';
export * from './session.ts';
export * from './extract.ts';
export * from './feature-cache.ts';
export * from './knn.ts';
