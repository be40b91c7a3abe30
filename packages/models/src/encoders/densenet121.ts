import { EncoderSpec, type Op } from '../spec.ts';

/**
 * torchvision's densenet121 `features` (CheXNet's and torchxrayvision's backbone) with its names:
 * features.conv0 / norm0, dense blocks of 6-12-24-16 layers (features.denseblockK.denselayerL.norm1
 * -> relu -> conv1 1x1 to 128 -> norm2 -> relu -> conv2 3x3 to 32), each layer reading the concat of
 * its block's input and every earlier layer's output; transitions (norm, relu, 1x1 conv halving the
 * channels, 2x2 average pool); norm5, then the relu and global average pool of its forward -> 1024.
 */
function densenetSpec(name: string, blocks: number[], growth: number, initial: number, bottleneck: number): EncoderSpec {
  const ops: Op[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, stride: number, input?: string) =>
    ops.push({ op: 'conv', id: name, name, in: cin, out: cout, k, stride, pad: Math.floor(k / 2), groups: 1, bias: false, ...(input ? { input } : {}) });
  const bn = (name: string, channels: number, input?: string) => ops.push({ op: 'bn', id: name, name, channels, eps: 1e-5, momentum: 0.1, ...(input ? { input } : {}) });
  const relu = (id: string) => ops.push({ op: 'relu', id });

  conv('features.conv0', 1, initial, 7, 2);
  bn('features.norm0', initial);
  relu('features.relu0');
  ops.push({ op: 'maxpool', id: 'features.pool0', k: 3, stride: 2, pad: 1 });
  let input = 'features.pool0';
  let channels = initial;
  blocks.forEach((layers, b) => {
    const block = `features.denseblock${b + 1}`;
    const parts = [input];
    for (let l = 0; l < layers; l++) {
      const p = `${block}.denselayer${l + 1}`;
      const from = parts.length > 1 ? `${p}.cat` : input;
      if (parts.length > 1) ops.push({ op: 'concat', id: from, inputs: [...parts] });
      bn(`${p}.norm1`, channels + l * growth, from);
      relu(`${p}.relu1`);
      conv(`${p}.conv1`, channels + l * growth, bottleneck * growth, 1, 1);
      bn(`${p}.norm2`, bottleneck * growth);
      relu(`${p}.relu2`);
      conv(`${p}.conv2`, bottleneck * growth, growth, 3, 1);
      parts.push(`${p}.conv2`);
    }
    ops.push({ op: 'concat', id: block, inputs: parts });
    channels += layers * growth;
    input = block;
    if (b < blocks.length - 1) {
      const t = `features.transition${b + 1}`;
      bn(`${t}.norm`, channels);
      relu(`${t}.relu`);
      conv(`${t}.conv`, channels, channels / 2, 1, 1);
      channels /= 2;
      ops.push({ op: 'avgpool', id: (input = `${t}.pool`), k: 2, stride: 2 });
    }
  });
  bn('features.norm5', channels);
  relu('relu');
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name, channels: 1, inputNorm: 'per-view', ops, features: channels });
}

export const densenet121 = densenetSpec('densenet121', [6, 12, 24, 16], 32, 64, 4);
