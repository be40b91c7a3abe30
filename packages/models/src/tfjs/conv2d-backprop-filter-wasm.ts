import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * The wasm backend has no Conv2DBackpropFilter kernel, so conv training fails there. This one
 * computes the filter gradient with one forward convolution (the classic trick):
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*s + kh - padTop, ow*s + kw - padLeft, ci] * dy[n, oh, ow, co]
 * is a 'valid' convolution of x seen as [ci, H, W, n] (batch = input channel, channels = batch)
 * with dy seen as an [OH, OW, n, co] filter dilated by the stride. XNNPACK runs it as one GEMM.
 */
/** One more reference to a backend buffer, so disposing our tensor over it leaves it alive. */
function retain(backend: BackendWasm, info: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('wasm Conv2DBackpropFilter: tensor buffer not found (tfjs internals changed?).');
  data.refCount += 1;
}

/**
 * A tensor over a kernel input, so tf ops can run on it inside the kernel. Kernel inputs are
 * owned by the caller: the extra reference makes our wrapper's dispose give back only its own.
 */
function borrow(backend: BackendWasm, info: tf.TensorInfo): tf.Tensor4D {
  retain(backend, info);
  return tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor4D;
}

function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter: only NHWC (channelsLast) is supported.');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [kh, kw, ci, co] = attrs.filterShape;
  const [, H, W] = x.shape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // rows of the padded input the gradient reads: kh - 1 + (oh - 1) * sh + 1
  const bottom = Math.max(0, kh + (oh - 1) * sh - top - H);
  const right = Math.max(0, kw + (ow - 1) * sw - left - W);

  const backend = args.backend as BackendWasm;
  const result = tf.tidy(() => {
    const xT = tf.transpose(borrow(backend, x), [3, 1, 2, 0]);
    const dyT = tf.transpose(borrow(backend, dy), [1, 2, 0, 3]);
    const xPadded = tf.pad(xT, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    const full = tf.conv2d(xPadded, dyT, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
  });
  // Hand the result's buffer to the engine: keep it alive past our tensor's dispose.
  retain(backend, result);
  const out = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return out;
}

let registered = false;

/** Registers the kernel for the 'wasm' backend (idempotent; a no-op if tfjs ever ships one). */
export function registerWasmConv2dBackpropFilter(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter });
  registered = true;
}
