export * from './forward.ts';
export * from './setup.ts';
export { registerWasmConvGradients } from './wasm-kernels.ts';
