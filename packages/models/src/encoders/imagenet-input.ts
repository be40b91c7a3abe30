import { EncoderSpec, normChannels, type RgbInputNorm } from '../spec.ts';

/**
 * `base` as the ImageNet model it mirrors sees its input: that model's own scaling (torchvision's
 * mean / std on [0, 1], or Keras VGG16's caffe BGR on 0..255) spreading the grey image over three
 * channels, and the first conv keeping its RGB kernel. Imported weights then compute exactly what
 * the original computes on the grey X-ray copied to RGB, borders included; per-view
 * standardisation instead would feed them inputs ~60x smaller than they were trained on.
 */
export function withImagenetInput(base: EncoderSpec, name: string, norm: RgbInputNorm): EncoderSpec {
  const [first, ...rest] = base.ops;
  if (first.op !== 'conv') throw new Error(`withImagenetInput: encoder "${base.name}" does not start with a conv.`);
  return EncoderSpec.parse({ ...base, name, inputNorm: norm, ops: [{ ...first, in: normChannels(norm) }, ...rest] });
}
