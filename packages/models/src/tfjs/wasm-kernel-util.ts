import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Helpers for wasm kernels written with tf ops. Ops may run inside a kernel (the engine stops
 * taping while a kernel runs); only the buffers' reference counts need care.
 */

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** One more reference to a backend buffer, so disposing a tensor over it leaves it alive. */
function retain(backend: BackendWasm, info: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('wasm kernel: tensor buffer not found (tfjs internals changed?).');
  data.refCount += 1;
}

/** A tensor over a kernel input (owned by the caller): our wrapper's dispose gives back only its own reference. */
export function borrow(backend: unknown, info: tf.TensorInfo): tf.Tensor4D {
  retain(backend as BackendWasm, info);
  return tf.engine().makeTensorFromTensorInfo(info, backend as BackendWasm) as tf.Tensor4D;
}

/** Hands a tensor computed inside a kernel to the engine as the kernel's output. */
export function handOver(backend: unknown, result: tf.Tensor): tf.TensorInfo {
  retain(backend as BackendWasm, result);
  const out = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return out;
}

export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Replaces (or adds) a wasm kernel without tfjs's "already registered" warning. */
export function registerWasmKernel(kernelName: string, kernelFunc: (args: KernelArgs) => tf.TensorInfo): void {
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
}
