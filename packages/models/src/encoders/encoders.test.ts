import { describe, expect, it } from 'vitest';
import { encoderWeightsShapes } from '../shapes.ts';
import { EncoderSpec } from '../spec.ts';
import { ENCODERS, encoderSpec } from './index.ts';

const convNames = (name: string) => encoderSpec(name).ops.flatMap((op) => (op.op === 'conv' ? [op.name] : []));

describe('encoder specs', () => {
  it('vgg16 has torchvision features indices for its 13 convs', () => {
    expect(convNames('vgg16')).toEqual(
      [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28].map((i) => `features.${i}`),
    );
    // torchvision's maxpools sit at 4, 9, 16, 23, 30
    const pools = encoderSpec('vgg16').ops.flatMap((op) => (op.op === 'maxpool' ? [op.id] : []));
    expect(pools).toEqual([4, 9, 16, 23, 30].map((i) => `features.${i}`));
  });

  it('vgg16 weight count equals torchvision features minus the two dropped RGB input channels', () => {
    const count = encoderWeightsShapes(encoderSpec('vgg16')).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    // torchvision vgg16().features has 14,714,688 parameters for 3 input channels
    expect(count).toBe(14_714_688 - 2 * 64 * 3 * 3);
  });

  it('vgg-small: 4 blocks of 2 convs 32-64-128-256 ending in a 256-wide gap', () => {
    const spec = encoderSpec('vgg-small');
    const widths = spec.ops.flatMap((op) => (op.op === 'conv' ? [op.out] : []));
    expect(widths).toEqual([32, 32, 64, 64, 128, 128, 256, 256]);
    expect(spec.ops.filter((op) => op.op === 'maxpool')).toHaveLength(4);
    expect(spec.ops.at(-1)?.op).toBe('gap');
    expect(spec.features).toBe(256);
  });

  it('ImageNet variants keep the architecture and weight names, take 3 channels from their input norm', () => {
    for (const [name, base, norm] of [
      ['vgg16-torchvision', 'vgg16', 'torchvision-rgb'],
      ['vgg16-bn-torchvision', 'vgg16-bn', 'torchvision-rgb'],
      ['resnet18-torchvision', 'resnet18', 'torchvision-rgb'],
      ['vgg16-keras', 'vgg16', 'caffe-bgr'],
    ]) {
      const spec = encoderSpec(name);
      expect(spec.inputNorm).toBe(norm);
      const [first, ...rest] = encoderWeightsShapes(spec);
      const [baseFirst, ...baseRest] = encoderWeightsShapes(encoderSpec(base));
      expect(first.shape).toEqual([baseFirst.shape[0], 3, ...baseFirst.shape.slice(2)]);
      expect(rest).toEqual(baseRest);
    }
    // torchvision vgg16().features: 14,714,688 parameters
    expect(encoderWeightsShapes(encoderSpec('vgg16-torchvision')).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0)).toBe(14_714_688);
  });

  it('resnet50 and densenet121 have torchvision\'s parameter counts less the RGB input channels and the classifier', () => {
    const params = (name: string) =>
      encoderWeightsShapes(encoderSpec(name))
        .filter((w) => !w.kind.startsWith('bn.running'))
        .reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    // torchvision: resnet50 25,557,032 with a 2048 x 1000 fc; densenet121 7,978,856 with a 1024 x 1000 classifier
    expect(params('resnet50-torchvision')).toBe(25_557_032 - 2_049_000);
    expect(params('resnet50')).toBe(25_557_032 - 2_049_000 - 2 * 64 * 7 * 7);
    expect(params('densenet121-torchvision')).toBe(7_978_856 - 1_025_000);
    expect(params('densenet121')).toBe(7_978_856 - 1_025_000 - 2 * 64 * 7 * 7);
    expect([encoderSpec('resnet50').features, encoderSpec('densenet121').features]).toEqual([2048, 1024]);
    // a dense layer reads its block's input and every earlier layer: denseblock1's 6th sees 64 + 5 x 32 channels
    const cat = encoderSpec('densenet121').ops.find((op) => op.id === 'features.denseblock1.denselayer6.cat');
    expect(cat?.op === 'concat' && cat.inputs).toEqual(['features.pool0', ...[1, 2, 3, 4, 5].map((l) => `features.denseblock1.denselayer${l}.conv2`)]);
    expect(encoderWeightsShapes(encoderSpec('densenet121')).find((w) => w.name === 'features.denseblock1.denselayer6.norm1.weight')?.shape).toEqual([224]);
  });

  it('a first conv that does not take what the input norm gives is an error', () => {
    const spec = encoderSpec('vgg16');
    expect(() => EncoderSpec.parse({ ...spec, inputNorm: 'caffe-bgr' })).toThrow('inputNorm caffe-bgr gives 3 channel(s) but the first conv takes 1');
  });

  it('names every known encoder when asked for an unknown one', () => {
    expect(() => encoderSpec('resnet')).toThrow(Object.keys(ENCODERS).join(', '));
  });
});
