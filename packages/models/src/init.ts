import { headWeightsShapes } from './heads.ts';
import { fillNormal, fillUniform } from './init-rng.ts';
import { encoderWeightsShapes, type WeightShape } from './shapes.ts';
import type { EncoderSpec, HeadSpec, Weights } from './spec.ts';

/** Input width of the dense layer that owns bias `name` (its `.weight` is [out, in]). */
type FanIn = (biasName: string) => number | undefined;

function initOne(w: WeightShape, seed: number, denseFanIn: FanIn): Float32Array {
  const size = w.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  switch (w.kind) {
    case 'conv.weight': {
      // Kaiming normal, mode fan_out, relu gain (torchvision VGG/ResNet): std = sqrt(2 / fan_out).
      // fan_out counts the outputs one input reaches, out / groups x k x k: torch's formula ignores
      // groups (pytorch/pytorch#23854), so a depthwise kernel there gets sqrt(channels) too small a
      // scale. BatchNorm after it hides that; without it (MobileNetV2 with its BatchNorm folded) 17
      // depthwise convs shrank the random features to ~1e-9, and a probe saw them as constant.
      const [out, , kh, kw] = w.shape;
      return fillNormal(data, Math.sqrt(2 / ((out / (w.groups ?? 1)) * kh * kw)), seed, w.name);
    }
    case 'dense.weight':
      // torch.nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)). torchvision's N(0, 0.01) was meant for a
      // 25088 -> 4096 classifier; on 256-d pooled features it gives logits ~1e-4 and no gradient.
      return fillUniform(data, 1 / Math.sqrt(w.shape[1]), seed, w.name);
    case 'bias': {
      const fanIn = denseFanIn(w.name);
      return fanIn ? fillUniform(data, 1 / Math.sqrt(fanIn), seed, w.name) : data; // conv and BN biases: 0
    }
    case 'bn.weight':
    case 'bn.running_var':
      return data.fill(1);
    case 'bn.running_mean':
      return data;
  }
}

/**
 * Fresh canonical weights (encoder, then head if given), initialised like PyTorch/torchvision:
 * Kaiming normal (fan_out per group, relu) conv kernels with zero bias, BatchNorm scale 1 / shift 0 /
 * running statistics (0, 1), dense layers torch.nn.Linear's fan-in uniform (weight and bias).
 * Deterministic: the same (specs, seed) always gives the same bytes.
 */
export function initWeights(encoder: EncoderSpec, head: HeadSpec | undefined, seed: number): Weights {
  const shapes = [...encoderWeightsShapes(encoder), ...(head ? headWeightsShapes(encoder, head) : [])];
  const fanIn = new Map(shapes.filter((w) => w.kind === 'dense.weight').map((w) => [`${w.name.slice(0, -'.weight'.length)}.bias`, w.shape[1]]));
  const weights: Weights = new Map();
  for (const w of shapes) weights.set(w.name, { shape: w.shape, data: initOne(w, seed, (name) => fanIn.get(name)) });
  return weights;
}
