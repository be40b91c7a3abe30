import { EncoderSpec, type Op } from '../spec.ts';

/** torchvision's two residual blocks: BasicBlock (two 3x3 convs) and Bottleneck (1x1, 3x3, 1x1 x4). */
export type ResnetBlock = 'basic' | 'bottleneck';

/**
 * A torchvision ResNet trunk with its names (conv1, bn1, layer{1..4}.{m}.conv{1..3} / bn{1..3},
 * layer{k}.0.downsample.{0,1}), grey input, per-view normalisation; global average pool (fc dropped).
 * Convs have no bias; the stem max pool is 3x3 stride 2 padded by 1; a Bottleneck strides in its
 * 3x3 conv (torchvision's "v1.5"), and a block's shortcut is projected when its stride or width changes.
 */
export function resnetSpec(name: string, block: ResnetBlock, depths: number[]): EncoderSpec {
  const ops: Op[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, stride: number, input?: string) =>
    ops.push({ op: 'conv', id: name, name, in: cin, out: cout, k, stride, pad: Math.floor(k / 2), groups: 1, bias: false, ...(input ? { input } : {}) });
  const bn = (name: string, channels: number) => ops.push({ op: 'bn', id: name, name, channels, eps: 1e-5, momentum: 0.1 });
  const relu = (id: string, input?: string) => ops.push({ op: 'relu', id, ...(input ? { input } : {}) });
  const expansion = block === 'basic' ? 1 : 4;

  conv('conv1', 1, 64, 7, 2);
  bn('bn1', 64);
  relu('relu');
  ops.push({ op: 'maxpool', id: 'maxpool', k: 3, stride: 2, pad: 1 });
  let input = 'maxpool';
  let channels = 64;
  [64, 128, 256, 512].forEach((width, layer) => {
    const out = width * expansion;
    for (let b = 0; b < depths[layer]; b++) {
      const p = `layer${layer + 1}.${b}`;
      const stride = layer > 0 && b === 0 ? 2 : 1;
      let last: string;
      if (block === 'basic') {
        conv(`${p}.conv1`, channels, width, 3, stride, input);
        bn(`${p}.bn1`, width);
        relu(`${p}.relu1`);
        conv(`${p}.conv2`, width, width, 3, 1);
        bn((last = `${p}.bn2`), width);
      } else {
        conv(`${p}.conv1`, channels, width, 1, 1, input);
        bn(`${p}.bn1`, width);
        relu(`${p}.relu1`);
        conv(`${p}.conv2`, width, width, 3, stride);
        bn(`${p}.bn2`, width);
        relu(`${p}.relu2`);
        conv(`${p}.conv3`, width, out, 1, 1);
        bn((last = `${p}.bn3`), out);
      }
      let shortcut = input;
      if (stride !== 1 || channels !== out) {
        conv(`${p}.downsample.0`, channels, out, 1, stride, input);
        bn(`${p}.downsample.1`, out);
        shortcut = `${p}.downsample.1`;
      }
      ops.push({ op: 'add', id: `${p}.add`, inputs: [shortcut, last] });
      input = `${p}.relu${block === 'basic' ? 2 : 3}`;
      relu(input);
      channels = out;
    }
  });
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name, channels: 1, inputNorm: 'per-view', ops, features: channels });
}
