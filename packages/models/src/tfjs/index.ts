export * from './forward.ts';
export * from './setup.ts';
export { registerWasmConv2dBackpropFilter } from './conv2d-backprop-filter-wasm.ts';
