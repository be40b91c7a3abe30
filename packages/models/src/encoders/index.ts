import type { EncoderSpec } from '../spec.ts';
import { mobileNetV2_035 } from './mobilenetv2.ts';
import { resnet18 } from './resnet18.ts';
import { vggSmall } from './vgg-small.ts';
import { vggSmallBn } from './vgg-small-bn.ts';
import { vgg16 } from './vgg16.ts';
import { vgg16Bn } from './vgg16-bn.ts';

/** Encoder registry: adding an encoder means one file and one line here. */
export const ENCODERS: Record<string, EncoderSpec> = {
  vgg16,
  'vgg16-bn': vgg16Bn,
  'vgg-small': vggSmall,
  'vgg-small-bn': vggSmallBn,
  resnet18,
  'mobilenetv2-0.35': mobileNetV2_035,
};

export function encoderSpec(name: string): EncoderSpec {
  const spec = ENCODERS[name];
  if (!spec) {
    throw new Error(`Unknown encoder "${name}". Known encoders: ${Object.keys(ENCODERS).join(', ')}.`);
  }
  return spec;
}

export { vggSpec } from './vgg.ts';
export { makeDivisible, mobileNetV2Spec } from './mobilenetv2.ts';
