// Specs, weights and init only: a torch run never loads TensorFlow.js. The rest are subpath
// exports: @cxr-ssl/models/tfjs (forward passes, backends), /onnx (the ONNX writer), /import.
export * from './spec.ts';
export * from './shapes.ts';
export * from './heads.ts';
export * from './init.ts';
export * from './safetensors.ts';
export * from './encoders/index.ts';
export * from './tasks/index.ts';
export * from './receptive.ts';
export * from './torch-model.ts';
