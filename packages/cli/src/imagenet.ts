import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type Weights, encoderSpec, encoderWeightsShapes, readSafetensors, writeSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { type KerasWeights, importTfjsLayers, mobilenetV2FromKeras, vgg16FromKeras } from '@cxr-ssl/models/import';
import { UsageError } from './config-file.ts';

/** Keras (TensorFlow.js layers) weights -> canonical weights, per encoder. */
export const KERAS_IMPORTERS: Record<string, (k: KerasWeights, source: string) => Weights> = {
  'mobilenetv2-0.35': (k, source) => mobilenetV2FromKeras(k, { source }),
  'vgg16-keras': (k, source) => vgg16FromKeras(k, source),
};

/**
 * ImageNet weights for an encoder, from canonical safetensors or a TensorFlow.js layers folder
 * (model.json + shards), as canonical safetensors (for pretext init) and an ONNX encoder (for eval):
 * `${outDir}/${name}.safetensors` and `.onnx`.
 */
export function loadImagenetWeights(encoder: string, path: string, outDir: string, name = encoder): { safetensors: string; onnx: Uint8Array } {
  if (!existsSync(path)) throw new UsageError(`ImageNet weights not found: ${path}`);
  const spec = encoderSpec(encoder);
  let weights: Weights;
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'model.json'))) throw new UsageError(`${path}: expected a TensorFlow.js layers folder with model.json`);
    const importer = KERAS_IMPORTERS[encoder];
    if (!importer) throw new UsageError(`no importer for ${encoder} from TensorFlow.js layers weights (have: ${Object.keys(KERAS_IMPORTERS).join(', ')})`);
    weights = importer(importTfjsLayers(path), `${path} (Keras weights for ${encoder})`);
  } else {
    const file = readSafetensors(path);
    // imported ImageNet weights name their encoder: its input scaling is the one they were trained with
    const made = file.metadata.encoder;
    if (made && made !== encoder) {
      throw new UsageError(`${path} holds weights for encoder ${made}, not ${encoder}: set imagenet.encoder (and encoder, with pretextInit: imagenet) to ${made}`);
    }
    weights = file.weights;
  }
  for (const { name, shape } of encoderWeightsShapes(spec)) {
    const t = weights.get(name);
    if (!t) throw new UsageError(`${path}: weight '${name}' of ${encoder} is missing`);
    if (t.shape.join() !== shape.join()) throw new UsageError(`${path}: weight '${name}' is [${t.shape}], ${encoder} expects [${shape}]`);
  }
  mkdirSync(outDir, { recursive: true });
  const safetensors = join(outDir, `${name}.safetensors`);
  writeSafetensors(safetensors, weights, { encoder, source: path });
  const onnx = encoderOnnx(spec, weights);
  writeFileAtomic(join(outDir, `${name}.onnx`), onnx);
  return { safetensors, onnx };
}
