/**
 * Feature extraction images/s: torch (cxr_torch.extract, CUDA when there) vs onnxruntime's CPU
 * provider, same encoder and weights, rows of a dataset cache (repeated to --count). Prints one JSON
 * line {torch: {imagesPerSec, ...}, ort: {...} | {error}, relDiff (TF32 on CUDA), relDiffFp32}. Rates are steady state: from
 * the first finished batch to the last (process start, CUDA init and cudnn's first-batch search excluded).
 *   node --import tsx [--import ./tools/device/lite-hooks.mjs] tools/device/features-run.ts \
 *     --cache .device/cache --name kermany --size 128 --encoder vgg16-bn --count 20000 --ort-count 1000
 */
import { parseArgs } from 'node:util';
import { openCache } from '@cxr-ssl/data';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { extractFeatures } from '../../packages/eval/src/extract.ts';
import { extractFeaturesTorch } from '../../packages/eval/src/extract-torch.ts';

const { values: a } = parseArgs({
  options: {
    cache: { type: 'string', default: '.device/cache' },
    name: { type: 'string', default: 'kermany' },
    size: { type: 'string', default: '128' },
    encoder: { type: 'string', default: 'vgg16-bn' },
    count: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '256' },
    device: { type: 'string', default: 'auto' },
    'ort-count': { type: 'string', default: '1000' },
    'ort-batch': { type: 'string', default: '64' },
  },
});
const cache = openCache(a.cache!, a.name!, Number(a.size));
const spec = encoderSpec(a.encoder!);
const weights = initWeights(spec, undefined, 1);
const rows = (n: number) => Array.from({ length: n }, (_, i) => i % cache.count);

/** images/s between the first and the last progress report */
function steady(): { onProgress: (done: number) => void; rate: () => number } {
  let t0 = 0;
  let d0 = 0;
  let t1 = 0;
  let d1 = 0;
  return {
    onProgress: (done) => {
      const now = performance.now();
      if (!t0) [t0, d0] = [now, done];
      [t1, d1] = [now, done];
    },
    rate: () => (t1 > t0 ? ((d1 - d0) * 1000) / (t1 - t0) : 0),
  };
}

const tw = steady();
let t = performance.now();
const torch = await extractFeaturesTorch({ encoder: spec, weights, images: cache, cacheFile: cache.files.u8, indices: rows(Number(a.count)), batchSize: Number(a.batch), device: a.device as 'auto', onProgress: tw.onProgress });
const torchWall = (performance.now() - t) / 1000;

let ort: Record<string, unknown>;
let relDiff: number | undefined;
let relDiffFp32: number | undefined;
try {
  const { encoderOnnx } = await import('@cxr-ssl/models/onnx');
  const { openEncoderSession } = await import('../../packages/eval/src/session.ts');
  const { session, provider } = await openEncoderSession(encoderOnnx(spec, weights), { provider: 'cpu' });
  const ow = steady();
  t = performance.now();
  const f = await extractFeatures({ session, images: cache, indices: rows(Number(a['ort-count'])), batchSize: Number(a['ort-batch']), onProgress: ow.onProgress });
  ort = { imagesPerSec: ow.rate(), wallSeconds: (performance.now() - t) / 1000, images: Number(a['ort-count']), provider };
  // the same rows through both: TF32 on the GPU against onnxruntime's fp32
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < f.features.length; i++) {
    diff = Math.max(diff, Math.abs(f.features[i] - torch.features[i]));
    scale = Math.max(scale, Math.abs(f.features[i]));
  }
  relDiff = diff / scale;
  // and strict fp32 on the same rows: tells TF32's share of the difference
  const fp32 = await extractFeaturesTorch({ encoder: spec, weights, images: cache, cacheFile: cache.files.u8, indices: rows(Number(a['ort-count'])), batchSize: Number(a.batch), device: a.device as 'auto', tf32: false });
  let d32 = 0;
  for (let i = 0; i < f.features.length; i++) d32 = Math.max(d32, Math.abs(f.features[i] - fp32.features[i]));
  relDiffFp32 = d32 / scale;
} catch (err) {
  ort = { error: `onnxruntime could not run here: ${(err as Error).message.split('\n')[0]}` };
}
cache.close();
console.log(
  JSON.stringify({
    kind: 'features',
    encoder: a.encoder,
    size: Number(a.size),
    torch: { imagesPerSec: tw.rate(), wallSeconds: torchWall, images: Number(a.count), device: torch.device },
    ort,
    relDiff,
    relDiffFp32,
  }),
);
