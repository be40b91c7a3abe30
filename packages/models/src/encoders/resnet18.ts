import { EncoderSpec, type Op } from '../spec.ts';

/**
 * torchvision's resnet18 trunk with its names (conv1, bn1, layer{1..4}.{0,1}.conv{1,2} / bn{1,2},
 * layer{2..4}.0.downsample.{0,1}), grey input, per-view normalisation; global average pool -> 512
 * features (fc dropped). Convs have no bias; the stem max pool is 3x3 stride 2 padded by 1.
 */
function resnet18Spec(): EncoderSpec {
  const ops: Op[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, stride: number, input?: string) =>
    ops.push({ op: 'conv', id: name, name, in: cin, out: cout, k, stride, pad: Math.floor(k / 2), groups: 1, bias: false, ...(input ? { input } : {}) });
  const bn = (name: string, channels: number) => ops.push({ op: 'bn', id: name, name, channels, eps: 1e-5, momentum: 0.1 });
  const relu = (id: string, input?: string) => ops.push({ op: 'relu', id, ...(input ? { input } : {}) });

  conv('conv1', 1, 64, 7, 2);
  bn('bn1', 64);
  relu('relu');
  ops.push({ op: 'maxpool', id: 'maxpool', k: 3, stride: 2, pad: 1 });
  let input = 'maxpool';
  let channels = 64;
  [64, 128, 256, 512].forEach((width, layer) => {
    for (let block = 0; block < 2; block++) {
      const p = `layer${layer + 1}.${block}`;
      const stride = layer > 0 && block === 0 ? 2 : 1;
      conv(`${p}.conv1`, channels, width, 3, stride, input);
      bn(`${p}.bn1`, width);
      relu(`${p}.relu1`);
      conv(`${p}.conv2`, width, width, 3, 1);
      bn(`${p}.bn2`, width);
      let shortcut = input;
      if (stride !== 1 || channels !== width) {
        conv(`${p}.downsample.0`, channels, width, 1, stride, input);
        bn(`${p}.downsample.1`, width);
        shortcut = `${p}.downsample.1`;
      }
      ops.push({ op: 'add', id: `${p}.add`, inputs: [shortcut, `${p}.bn2`] });
      relu(`${p}.relu2`);
      input = `${p}.relu2`;
      channels = width;
    }
  });
  ops.push({ op: 'gap', id: 'gap' });
  return EncoderSpec.parse({ name: 'resnet18', channels: 1, inputNorm: 'per-view', ops, features: 512 });
}

export const resnet18 = resnet18Spec();
