// @cxr-ssl/models without its tfjs / ONNX / import parts (see lite-hooks.mjs).
export * from '../../packages/models/src/spec.ts';
export * from '../../packages/models/src/shapes.ts';
export * from '../../packages/models/src/heads.ts';
export * from '../../packages/models/src/init.ts';
export * from '../../packages/models/src/safetensors.ts';
export * from '../../packages/models/src/encoders/index.ts';
export * from '../../packages/models/src/tasks/index.ts';
