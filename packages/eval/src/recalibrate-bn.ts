import type { EncoderSpec, Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import ort from 'onnxruntime-node';
import type { ImageSource } from './extract.ts';
import { INPUT_NAME } from './session.ts';

/** Each BatchNorm op of an encoder with the id of the value it normalises, in network order. */
export function bnInputs(spec: EncoderSpec): { name: string; input: string; channels: number }[] {
  let previous = 'norm.out'; // the ONNX writer's input normalisation
  const out: { name: string; input: string; channels: number }[] = [];
  for (const op of spec.ops) {
    if (op.op === 'bn') out.push({ name: op.name, input: op.input ?? previous, channels: op.channels });
    previous = op.id;
  }
  return out;
}

/**
 * The encoder with every BatchNorm's running mean and variance set to the mean and population
 * variance (over images and positions) of what that layer sees on `indices`, layer by layer in
 * network order, so each layer sees the earlier ones already recalibrated. Conv weights and BN
 * scale/shift are kept. A random-init encoder still has the initial statistics (0 and 1), which
 * make its BN layers identities at inference: recalibrated, it is the fairer random baseline,
 * showing how much of a pretrained encoder's lead is calibrated statistics rather than learnt weights.
 */
export async function recalibrateBn(spec: EncoderSpec, weights: Weights, images: ImageSource, indices: ArrayLike<number>, opts: { batchSize?: number } = {}): Promise<Weights> {
  const batchSize = opts.batchSize ?? 64;
  if (indices.length === 0) throw new Error('recalibrateBn: no images to recalibrate on');
  const S = images.size;
  const px = S * S;
  const current: Weights = new Map(weights);
  for (const bn of bnInputs(spec)) {
    const session = await ort.InferenceSession.create(encoderOnnx(spec, current, { outputs: [bn.input] }));
    const sum = new Float64Array(bn.channels);
    const sumSq = new Float64Array(bn.channels);
    let count = 0;
    const input = new Float32Array(Math.min(batchSize, indices.length) * px);
    try {
      for (let start = 0; start < indices.length; start += batchSize) {
        const n = Math.min(batchSize, indices.length - start);
        for (let b = 0; b < n; b++) input.set(images.image(indices[start + b]), b * px);
        const pixels = new ort.Tensor('float32', input.subarray(0, n * px), [n, 1, S, S]);
        const result = await session.run({ [INPUT_NAME]: pixels }, [bn.input]);
        const t = result[bn.input];
        const [tn, c, h, w] = t.dims;
        if (c !== bn.channels) throw new Error(`recalibrateBn: ${bn.input} has ${c} channels, ${bn.name} expects ${bn.channels}`);
        const x = t.data as Float32Array;
        const hw = h * w;
        for (let i = 0; i < tn; i++) {
          for (let k = 0; k < c; k++) {
            const base = (i * c + k) * hw;
            let s = 0;
            let q = 0;
            for (let j = 0; j < hw; j++) {
              const v = x[base + j];
              s += v;
              q += v * v;
            }
            sum[k] += s;
            sumSq[k] += q;
          }
        }
        count += tn * hw;
        pixels.dispose();
        t.dispose();
      }
    } finally {
      await session.release();
    }
    const mean = new Float32Array(bn.channels);
    const variance = new Float32Array(bn.channels);
    for (let k = 0; k < bn.channels; k++) {
      mean[k] = sum[k] / count;
      variance[k] = Math.max(0, sumSq[k] / count - (sum[k] / count) ** 2);
    }
    current.set(`${bn.name}.running_mean`, { shape: [bn.channels], data: mean });
    current.set(`${bn.name}.running_var`, { shape: [bn.channels], data: variance });
  }
  return current;
}
