import * as tf from '@tensorflow/tfjs-core';
import { borrow, type ConvGradAttrs, handOver, type KernelArgs } from './wasm-kernel-util.ts';

/**
 * The wasm backend has no Conv2DBackpropFilter kernel, so conv training fails there. This one
 * computes the filter gradient with one forward convolution (the classic trick):
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*s + kh - padTop, ow*s + kw - padLeft, ci] * dy[n, oh, ow, co]
 * is a 'valid' convolution of x seen as [ci, H, W, n] (batch = input channel, channels = batch)
 * with dy seen as an [OH, OW, n, co] filter dilated by the stride. XNNPACK runs it as one GEMM.
 */
export function conv2dBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
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
  const result = tf.tidy(() => {
    const xT = tf.transpose(borrow(args.backend, x), [3, 1, 2, 0]);
    const dyT = tf.transpose(borrow(args.backend, dy), [1, 2, 0, 3]);
    const xPadded = tf.pad(xT, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    const full = tf.conv2d(xPadded, dyT, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
  });
  return handOver(args.backend, result);
}
