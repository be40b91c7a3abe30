import { type EncoderSpec, encoderSpec, initWeights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';

/** A small randomly initialised encoder exported with the project ONNX writer, for tests and benches. */
export function testEncoder(name = 'vgg-small', seed = 1): { spec: EncoderSpec; onnx: Uint8Array } {
  const spec = encoderSpec(name);
  return { spec, onnx: encoderOnnx(spec, initWeights(spec, undefined, seed)) };
}
