import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter-wasm.ts';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input-wasm.ts';
import { registerWasmKernel } from './wasm-kernel-util.ts';

let registered = false;

/**
 * Registers our wasm convolution-gradient kernels (idempotent): Conv2DBackpropFilter (missing
 * from tfjs-backend-wasm) and a faster Conv2DBackpropInput, both built from forward convolutions.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  registerWasmKernel('Conv2DBackpropFilter', conv2dBackpropFilterWasm);
  registerWasmKernel('Conv2DBackpropInput', conv2dBackpropInputWasm);
  registered = true;
}
