export * from './spec.ts';
export * from './shapes.ts';
export * from './heads.ts';
export * from './init.ts';
export * from './safetensors.ts';
export * from './encoders/index.ts';
export * from './tasks/index.ts';
