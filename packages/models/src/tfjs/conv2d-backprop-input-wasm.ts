import * as tf from '@tensorflow/tfjs-core';
import { borrow, type ConvGradAttrs, handOver, type KernelArgs } from './wasm-kernel-util.ts';

/**
 * wasm's own Conv2DBackpropInput is a plain loop, several times slower than the forward
 * convolution it mirrors (it was 70% of a vgg-small training step). This one is a forward
 * convolution, which XNNPACK runs fast:
 *   dx[n, ih, iw, ci] = sum_{kh, kw, co} dyS[n, ih + padTop - kh, iw + padLeft - kw, co] * W[kh, kw, ci, co]
 * where dyS is dy spread out by the stride (zeros between rows/columns). That is a 'valid'
 * correlation of dyS, padded by k - 1 - pad, with W flipped in space and transposed to [k, k, co, ci].
 */
export function conv2dBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropInput: only NHWC (channelsLast) is supported.');
  const [n, H, W, ci] = attrs.inputShape;
  const [kh, kw, , co] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const result = tf.tidy(() => {
    let spread = borrow(args.backend, dy);
    if (sh > 1 || sw > 1) {
      // [n, oh, ow, co] -> [n, oh, 1, ow, 1, co] -> zero-pad the unit axes to the stride -> merge
      const grid = tf.reshape(spread, [n, oh, 1, ow, 1, co]);
      const padded = tf.pad(grid, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      spread = tf.reshape(padded, [n, oh * sh, ow * sw, co]) as tf.Tensor4D;
    }
    // place dyS so that row m of the padded tensor is dyS row m - (kh - 1 - top); crop or pad to H + kh - 1
    const alignTop = kh - 1 - top;
    const alignLeft = kw - 1 - left;
    const cropTop = Math.max(0, -alignTop);
    const cropLeft = Math.max(0, -alignLeft);
    const rows = Math.min(spread.shape[1] - cropTop, H + kh - 1 - Math.max(0, alignTop));
    const cols = Math.min(spread.shape[2] - cropLeft, W + kw - 1 - Math.max(0, alignLeft));
    const cropped = tf.slice(spread, [0, cropTop, cropLeft, 0], [n, rows, cols, co]);
    const padTop = Math.max(0, alignTop);
    const padLeft = Math.max(0, alignLeft);
    const full = tf.pad(cropped, [
      [0, 0],
      [padTop, H + kh - 1 - padTop - rows],
      [padLeft, W + kw - 1 - padLeft - cols],
      [0, 0],
    ]);
    const flipped = tf.transpose(tf.reverse(borrow(args.backend, filter), [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(full, flipped, 1, 'valid');
  });
  if (result.shape[3] !== ci) throw new Error('wasm Conv2DBackpropInput: channel mismatch (internal error).');
  return handOver(args.backend, result);
}
