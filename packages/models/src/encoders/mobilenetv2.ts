import { EncoderSpec, type Op } from '../spec.ts';

/**
 * Keras MobileNetV2 feature extractor (include_top=False, then global average pooling) in our op
 * graph, for the width multiplier `alpha`. Canonical weight names are the Keras layer names, so
 * an imported Keras model maps one-to-one:
 *   Conv1                                       stem 3x3 stride-2 conv (grey input: RGB kernel summed)
 *   expanded_conv_depthwise, expanded_conv_project   block 0 (no expansion)
 *   block_{i}_expand, block_{i}_depthwise, block_{i}_project   blocks 1..16
 *   Conv_1                                      final 1x1 conv to 1280 channels
 * each with `.weight` (OIHW; depthwise [C, 1, 3, 3], groups C) and `.bias`: every Keras conv is
 * followed by a BatchNormalization that the importer folds into the conv, hence a bias everywhere.
 * Activations are relu6 (`<conv>_relu`, `out_relu`), residual adds are `block_{i}_add`, as in Keras.
 * Keras pads stride-2 convs with ZeroPadding2D((0, 1), (0, 1)) + 'valid' for its 224 px input:
 * that is exactly TF 'same' at every even size, which `pad: 'same'` reproduces at any input size.
 */

/** Keras `_make_divisible`: round to a multiple of 8, never dropping more than 10%. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** The inverted-residual settings of the paper (Sandler et al. 2018, table 2): t, c, n, s. */
const BLOCKS: ReadonlyArray<readonly [expansion: number, channels: number, repeats: number, stride: number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function mobileNetV2Spec(alpha: number, name = `mobilenetv2-${alpha}`): EncoderSpec {
  const ops: Op[] = [];
  const conv = (id: string, cin: number, cout: number, k: number, stride = 1, groups = 1) =>
    ops.push({ op: 'conv', id, name: id, in: cin, out: cout, k, stride, pad: k === 1 ? 0 : 'same', groups, bias: true });
  const relu6 = (id: string) => ops.push({ op: 'relu6', id });

  let channels = makeDivisible(32 * alpha);
  conv('Conv1', 1, channels, 3, 2);
  relu6('Conv1_relu');
  let blockInput = 'Conv1_relu';
  let index = 0;
  for (const [expansion, width, repeats, firstStride] of BLOCKS) {
    const out = makeDivisible(width * alpha);
    for (let r = 0; r < repeats; r++) {
      const stride = r === 0 ? firstStride : 1;
      const prefix = index === 0 ? 'expanded_conv' : `block_${index}`;
      const hidden = channels * expansion;
      if (index > 0) {
        conv(`${prefix}_expand`, channels, hidden, 1);
        relu6(`${prefix}_expand_relu`);
      }
      conv(`${prefix}_depthwise`, hidden, hidden, 3, stride, hidden);
      relu6(`${prefix}_depthwise_relu`);
      conv(`${prefix}_project`, hidden, out, 1);
      if (stride === 1 && channels === out) {
        ops.push({ op: 'add', id: `${prefix}_add`, inputs: [blockInput, `${prefix}_project`] });
      }
      blockInput = ops[ops.length - 1].id;
      channels = out;
      index += 1;
    }
  }
  // Keras keeps the last conv at 1280 for alpha <= 1 and widens it only above.
  const last = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  conv('Conv_1', channels, last, 1);
  relu6('out_relu');
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name, channels: 1, inputNorm: 'minus1to1', ops, features: last });
}

/** The ImageNet-pretrained model we have offline (../shared/weights/mobilenetv2-0.35-imagenet-tfjs). */
export const mobileNetV2_035 = mobileNetV2Spec(0.35, 'mobilenetv2-0.35');
