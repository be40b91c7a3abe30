import { mobileNetV2_035 } from '../encoders/mobilenetv2.ts';
import { encoderWeightsShapes } from '../shapes.ts';
import type { EncoderSpec, Weights } from '../spec.ts';
import { depthwiseToOihw, foldBatchNorm, hwioToOihw, kerasBatchNorm, kerasWeight, sumInputChannels } from './keras-layout.ts';
import type { KerasWeights } from './tfjs-layers.ts';

/** Keras BatchNormalization's default epsilon, the one keras.applications.MobileNetV2 uses. */
export const KERAS_BN_EPS = 1e-3;

/** Keras names the BatchNormalization after each conv irregularly: bn_Conv1, Conv_1_bn, <conv>_BN. */
function batchNormLayer(conv: string): string {
  if (conv === 'Conv1') return 'bn_Conv1';
  if (conv === 'Conv_1') return 'Conv_1_bn';
  return `${conv}_BN`;
}

/**
 * Keras MobileNetV2 weights (importTfjsLayers of a keras.applications.MobileNetV2, or any model
 * nesting one) -> canonical weights of `spec` (default mobilenetv2-0.35): every BatchNormalization
 * folded into its conv, kernels OIHW, the stem's RGB kernel summed to one grey channel.
 */
export function mobilenetV2FromKeras(
  keras: KerasWeights,
  options: { spec?: EncoderSpec; eps?: number; source?: string } = {},
): Weights {
  const spec = options.spec ?? mobileNetV2_035;
  const eps = options.eps ?? KERAS_BN_EPS;
  const source = options.source ?? 'Keras MobileNetV2 weights';
  const expected = new Map(encoderWeightsShapes(spec).map((w) => [w.name, w.shape]));
  const weights: Weights = new Map();
  for (const op of spec.ops) {
    if (op.op !== 'conv') continue;
    const depthwise = op.groups > 1;
    const raw = kerasWeight(keras, op.name, depthwise ? 'depthwise_kernel' : 'kernel', source);
    let kernel = depthwise ? depthwiseToOihw(raw, `${op.name}/depthwise_kernel`) : hwioToOihw(raw, `${op.name}/kernel`);
    if (op.name === 'Conv1') kernel = sumInputChannels(kernel);
    const { weight, bias } = foldBatchNorm(kernel, undefined, kerasBatchNorm(keras, batchNormLayer(op.name), eps, source));
    for (const [suffix, t] of [['weight', weight], ['bias', bias]] as const) {
      const name = `${op.name}.${suffix}`;
      const shape = expected.get(name);
      if (!shape || shape.join() !== t.shape.join()) {
        throw new Error(
          `${source}: "${op.name}" gives ${name} [${t.shape}] but ${spec.name} expects [${shape}]. Is the model a MobileNetV2 of the same width (alpha)?`,
        );
      }
      weights.set(name, t);
    }
  }
  return weights;
}
