import { encoderSpec } from '../encoders/index.ts';
import type { Weights } from '../spec.ts';
import { hwioToOihw, kerasWeight } from './keras-layout.ts';
import type { KerasWeights } from './tfjs-layers.ts';

/** keras.applications.VGG16's conv layer names, in order: block1_conv1 ... block5_conv3. */
export const KERAS_VGG16_CONVS = [2, 2, 3, 3, 3].flatMap((convs, b) =>
  Array.from({ length: convs }, (_, i) => `block${b + 1}_conv${i + 1}`),
);

/**
 * Keras VGG16 weights (HWIO kernels + biases, no BatchNorm) -> canonical `vgg16-keras` weights:
 * the n-th Keras conv becomes the n-th conv of the spec (features.0, .2, .5, ... like
 * torchvision), kernels OIHW. block1_conv1 keeps its three BGR input channels: the encoder's
 * caffe-bgr inputNorm feeds them Keras' own preprocessing. The classifier is ignored.
 */
export function vgg16FromKeras(keras: KerasWeights, source = 'Keras VGG16 weights'): Weights {
  const spec = encoderSpec('vgg16-keras');
  const convs = spec.ops.flatMap((op) => (op.op === 'conv' ? [op] : []));
  const weights: Weights = new Map();
  KERAS_VGG16_CONVS.forEach((layer, n) => {
    const op = convs[n];
    const kernel = hwioToOihw(kerasWeight(keras, layer, 'kernel', source), `${layer}/kernel`);
    const bias = kerasWeight(keras, layer, 'bias', source);
    const want = [op.out, op.in, op.k, op.k];
    if (kernel.shape.join() !== want.join() || bias.data.length !== op.out) {
      throw new Error(`${source}: ${layer} gives ${op.name}.weight [${kernel.shape}], bias [${bias.shape}]; ${spec.name} expects [${want}] and [${op.out}].`);
    }
    weights.set(`${op.name}.weight`, kernel);
    weights.set(`${op.name}.bias`, { shape: [op.out], data: Float32Array.from(bias.data) });
  });
  return weights;
}
