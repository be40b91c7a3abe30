import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type Weights, encoderSpec, encoderWeightsShapes, readSafetensors, writeSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { type KerasWeights, importTfjsLayers, mobilenetV2FromKeras, vgg16FromKeras } from '@cxr-ssl/models/import';
import { UsageError } from './config-file.ts';

/** Keras (TensorFlow.js layers) weights -> canonical grey weights, per encoder. */
const KERAS_IMPORTERS: Record<string, (k: KerasWeights) => Weights> = {
  'mobilenetv2-0.35': (k) => mobilenetV2FromKeras(k),
  vgg16: (k) => vgg16FromKeras(k),
};

/**
 * ImageNet weights for an encoder, from canonical safetensors or a TensorFlow.js layers folder
 * (model.json + shards), as canonical safetensors (for pretext init) and an ONNX encoder (for eval).
 */
export function loadImagenetWeights(encoder: string, path: string, outDir: string): { safetensors: string; onnx: Uint8Array } {
  if (!existsSync(path)) throw new UsageError(`ImageNet weights not found: ${path}`);
  const spec = encoderSpec(encoder);
  let weights: Weights;
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'model.json'))) throw new UsageError(`${path}: expected a TensorFlow.js layers folder with model.json`);
    const importer = KERAS_IMPORTERS[encoder];
    if (!importer) throw new UsageError(`no importer for ${encoder} from TensorFlow.js layers weights (have: ${Object.keys(KERAS_IMPORTERS).join(', ')})`);
    weights = importer(importTfjsLayers(path));
  } else {
    weights = readSafetensors(path).weights;
  }
  for (const name of encoderWeightsShapes(spec).map((s) => s.name)) {
    if (!weights.has(name)) throw new UsageError(`${path}: weight '${name}' of ${encoder} is missing`);
  }
  mkdirSync(outDir, { recursive: true });
  const safetensors = join(outDir, `${encoder}.safetensors`);
  writeSafetensors(safetensors, weights, { encoder, source: path });
  const onnx = encoderOnnx(spec, weights);
  writeFileAtomic(join(outDir, `${encoder}.onnx`), onnx);
  return { safetensors, onnx };
}
