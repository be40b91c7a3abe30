import { EncoderSpec, type InputNorm, type Op } from '../spec.ts';

/**
 * Builds a VGG-style `features` stack with torchvision's indexing: every conv, batch norm, relu
 * and pool takes one index, so VGG16's convs land on features.0, .2, .5, ... (features.0, .3,
 * .7, ... with `bn`, as in torchvision's vgg16_bn) and its ImageNet weights map by name.
 * `blocks` lists the conv widths of each block; a 2x2 max pool closes every block. A global
 * average pool then gives the feature vector.
 */
export function vggSpec(name: string, blocks: number[][], opts: { bn?: boolean; inputNorm?: InputNorm } = {}): EncoderSpec {
  const ops: Op[] = [];
  let index = 0;
  let channels = 1;
  const next = () => `features.${index++}`;
  for (const block of blocks) {
    for (const width of block) {
      const conv = next();
      ops.push({ op: 'conv', id: conv, name: conv, in: channels, out: width, k: 3, stride: 1, pad: 1, groups: 1, bias: true });
      if (opts.bn) {
        const bn = next();
        ops.push({ op: 'bn', id: bn, name: bn, channels: width, eps: 1e-5, momentum: 0.1 });
      }
      ops.push({ op: 'relu', id: next() });
      channels = width;
    }
    ops.push({ op: 'maxpool', id: next(), k: 2, stride: 2, pad: 0 });
  }
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name, channels: 1, inputNorm: opts.inputNorm ?? 'per-view', ops, features: channels });
}

/** VGG16's conv widths per block. */
export const VGG16_BLOCKS = [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
];

/** vgg-small's: VGG16's shape at a fraction of its cost. */
export const VGG_SMALL_BLOCKS = [
  [32, 32],
  [64, 64],
  [128, 128],
  [256, 256],
];
