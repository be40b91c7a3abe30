import { EncoderSpec, type InputNorm, type Op } from '../spec.ts';

/**
 * Builds a VGG-style `features` stack with torchvision's indexing: every conv and relu and pool
 * takes one index, so VGG16's convs land on features.0, .2, .5, ... exactly like torchvision and
 * its ImageNet weights map by name. `blocks` lists the conv widths of each block; a 2x2 max pool
 * closes every block. A global average pool then gives the feature vector.
 */
export function vggSpec(name: string, blocks: number[][], inputNorm: InputNorm = 'per-view'): EncoderSpec {
  const ops: Op[] = [];
  let index = 0;
  let channels = 1;
  for (const block of blocks) {
    for (const width of block) {
      const convName = `features.${index}`;
      ops.push({ op: 'conv', id: convName, name: convName, in: channels, out: width, k: 3, stride: 1, pad: 1, groups: 1, bias: true });
      index += 1;
      ops.push({ op: 'relu', id: `features.${index}` });
      index += 1;
      channels = width;
    }
    ops.push({ op: 'maxpool', id: `features.${index}`, k: 2, stride: 2 });
    index += 1;
  }
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name, channels: 1, inputNorm, ops, features: channels });
}
