import type { EncoderSpec } from '../spec.ts';
import { densenet121 } from './densenet121.ts';
import { withImagenetInput } from './imagenet-input.ts';
import { mobileNetV2_035 } from './mobilenetv2.ts';
import { resnet18 } from './resnet18.ts';
import { resnet50 } from './resnet50.ts';
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
  resnet50,
  densenet121,
  'mobilenetv2-0.35': mobileNetV2_035,
  // ImageNet inits with their own input scaling (see imagenet-input.ts)
  'vgg16-torchvision': withImagenetInput(vgg16, 'vgg16-torchvision', 'torchvision-rgb'),
  'vgg16-bn-torchvision': withImagenetInput(vgg16Bn, 'vgg16-bn-torchvision', 'torchvision-rgb'),
  'resnet18-torchvision': withImagenetInput(resnet18, 'resnet18-torchvision', 'torchvision-rgb'),
  'resnet50-torchvision': withImagenetInput(resnet50, 'resnet50-torchvision', 'torchvision-rgb'),
  'densenet121-torchvision': withImagenetInput(densenet121, 'densenet121-torchvision', 'torchvision-rgb'),
  'vgg16-keras': withImagenetInput(vgg16, 'vgg16-keras', 'caffe-bgr'),
};

export function encoderSpec(name: string): EncoderSpec {
  const spec = ENCODERS[name];
  if (!spec) {
    throw new Error(`Unknown encoder "${name}". Known encoders: ${Object.keys(ENCODERS).join(', ')}.`);
  }
  return spec;
}

export { withImagenetInput } from './imagenet-input.ts';
export { vggSpec } from './vgg.ts';
export { makeDivisible, mobileNetV2Spec } from './mobilenetv2.ts';
