import ort from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from './session.ts';

/**
 * Batched feature extraction through an encoder session. Pixels go in as raw 0..255 float32
 * [N, 1, S, S]: the model carries its own input normalisation (spec.inputNorm).
 */

/** The dataset cache reader's shape (openCache in @cxr-ssl/data), so it can be passed straight in. */
export interface ImageSource {
  count: number;
  size: number;
  image(i: number): Uint8Array;
}

export interface ExtractInput {
  session: ort.InferenceSession;
  images: ImageSource;
  /** rows of `images` to extract, in output order */
  indices: ArrayLike<number>;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Features {
  /** indices.length x dim, row-major */
  features: Float32Array;
  dim: number;
}

export async function extractFeatures(input: ExtractInput): Promise<Features> {
  const { session, images, indices } = input;
  const batchSize = input.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractFeatures: batchSize ${batchSize} must be a positive integer`);
  const S = images.size;
  const px = S * S;
  const total = indices.length;
  for (let k = 0; k < total; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= images.count) {
      throw new Error(`extractFeatures: index ${i} at position ${k} is outside the ${images.count} images`);
    }
  }
  const input32 = new Float32Array(Math.min(batchSize, total) * px);
  let out: Float32Array | undefined;
  let dim = 0;
  for (let start = 0; start < total; start += batchSize) {
    const n = Math.min(batchSize, total - start);
    for (let b = 0; b < n; b++) {
      const i = indices[start + b];
      const img = images.image(i);
      if (img.length !== px) throw new Error(`extractFeatures: image ${i} has ${img.length} bytes, expected ${S}x${S}`);
      input32.set(img, b * px); // uint8 -> float32, values kept as 0..255
    }
    const tensor = new ort.Tensor('float32', input32.subarray(0, n * px), [n, 1, S, S]);
    const result = await session.run({ [INPUT_NAME]: tensor });
    const f = result[OUTPUT_NAME];
    tensor.dispose();
    if (f.dims.length !== 2 || f.dims[0] !== n) {
      throw new Error(`extractFeatures: encoder output '${OUTPUT_NAME}' has shape [${f.dims.join(', ')}], expected [${n}, F]`);
    }
    if (!out) {
      dim = f.dims[1];
      out = new Float32Array(total * dim);
    }
    out.set(f.data as Float32Array, start * dim);
    f.dispose();
    input.onProgress?.(start + n, total);
  }
  return { features: out ?? new Float32Array(0), dim };
}
