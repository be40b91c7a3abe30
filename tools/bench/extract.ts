/**
 * Feature-extraction throughput: onnxruntime-node (the eval path) against a tfjs forward of the
 * same encoder and weights (wasm backend by default), at the same size, batch and images, in this
 * process. Prints images/s for each and the ratio; also the largest feature difference between
 * the two runtimes on the first batch, so a fast-but-wrong path shows up.
 *
 *   npx tsx tools/bench/extract.ts [--encoder vgg-small|vgg16] [--size 128] [--images 64]
 *                                  [--batch 16] [--threads N] [--tfjs wasm|cpu|auto] [--provider cpu|auto]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { extractFeatures, openEncoderSession } from '@cxr-ssl/eval';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { encoderForward, paramsFromWeights, setupTfjs } from '@cxr-ssl/models/tfjs';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { z } from 'zod';
import { loadFixture } from '@cxr-ssl/data/testing';

const Args = z.object({
  encoder: z.string().default('vgg-small'),
  size: z.coerce.number().int().positive().default(128),
  images: z.coerce.number().int().positive().default(64),
  batch: z.coerce.number().int().positive().default(16),
  threads: z.coerce.number().int().positive().optional(),
  tfjs: z.enum(['wasm', 'cpu', 'auto']).default('wasm'),
  provider: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
});
const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(Args.shape).map((k) => [k, { type: 'string' as const }])),
});
const args = Args.parse(values);

const fx = await loadFixture(args.size);
const indices = Array.from({ length: args.images }, (_, i) => i % fx.count);
const spec = encoderSpec(args.encoder);
const weights = initWeights(spec, undefined, 1);
const onnx = encoderOnnx(spec, weights);

// onnxruntime-node: one warm-up batch, then the timed pass
const ort = await openEncoderSession(onnx, { provider: args.provider, threads: args.threads });
if (ort.note) console.log(`note: ${ort.note}`);
await extractFeatures({ session: ort.session, images: fx, indices: indices.slice(0, args.batch), batchSize: args.batch });
let t0 = performance.now();
const ortOut = await extractFeatures({ session: ort.session, images: fx, indices, batchSize: args.batch });
const ortRate = args.images / ((performance.now() - t0) / 1000);

// tfjs forward of the same weights, NHWC input, same batches
const device = await setupTfjs(args.tfjs);
const params = paramsFromWeights(weights);
const S = args.size;
const forwardBatch = (start: number, n: number): Float32Array => {
  const x = new Float32Array(n * S * S);
  for (let b = 0; b < n; b++) x.set(fx.image(indices[start + b]), b * S * S);
  return tf.tidy(() => encoderForward(spec, params, tf.tensor4d(x, [n, S, S, 1])).dataSync() as Float32Array);
};
forwardBatch(0, Math.min(args.batch, args.images));
t0 = performance.now();
const tfOut = new Float32Array(ortOut.features.length);
for (let start = 0; start < args.images; start += args.batch) {
  const n = Math.min(args.batch, args.images - start);
  tfOut.set(forwardBatch(start, n), start * ortOut.dim);
}
const tfRate = args.images / ((performance.now() - t0) / 1000);

let maxDiff = 0;
let maxAbs = 0;
for (let i = 0; i < tfOut.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(tfOut[i] - ortOut.features[i]));
  maxAbs = Math.max(maxAbs, Math.abs(ortOut.features[i]));
}

console.log(`encoder ${args.encoder} (${ortOut.dim} features), ${S} px, ${args.images} real fixture images, batch ${args.batch}`);
console.log(`onnxruntime-node (${ort.provider}${args.threads ? `, ${args.threads} threads` : ''}): ${ortRate.toFixed(1)} images/s`);
console.log(`tfjs ${device}: ${tfRate.toFixed(1)} images/s`);
console.log(`ratio onnxruntime / tfjs: ${(ortRate / tfRate).toFixed(2)}x`);
console.log(`max |feature difference|: ${maxDiff.toExponential(2)} (max |feature| ${maxAbs.toExponential(2)})`);
await ort.session.release();
