import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/data';
import * as models from '@cxr-ssl/models';
import { encoderOnnx, encoderSpec, readSafetensors, writeSafetensors, type Weights } from '@cxr-ssl/models';
import { UsageError } from './config-file.ts';

/**
 * ImageNet weights for an encoder, from canonical safetensors or a TensorFlow.js layers folder
 * (model.json + shards), as canonical safetensors (for pretext init) and an ONNX encoder (for eval).
 */
export async function loadImagenetWeights(encoder: string, path: string, outDir: string): Promise<{ safetensors: string; onnx: Uint8Array }> {
  if (!existsSync(path)) throw new UsageError(`ImageNet weights not found: ${path}`);
  const spec = encoderSpec(encoder);
  let weights: Weights;
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'model.json'))) throw new UsageError(`${path}: expected a TensorFlow.js layers folder with model.json`);
    const importer = (models as Record<string, unknown>).importKerasEncoder as ((encoder: string, dir: string) => Promise<Weights>) | undefined;
    if (!importer) throw new UsageError(`no importer for ${encoder} from TensorFlow.js layers weights`);
    weights = await importer(encoder, path);
  } else {
    weights = readSafetensors(path).weights;
  }
  for (const name of models.encoderWeightsShapes(spec).map((s) => s.name)) {
    if (!weights.has(name)) throw new UsageError(`${path}: weight '${name}' of ${encoder} is missing`);
  }
  mkdirSync(outDir, { recursive: true });
  const safetensors = join(outDir, `${encoder}.safetensors`);
  writeSafetensors(safetensors, weights, { encoder, source: path });
  const onnx = encoderOnnx(spec, weights);
  writeFileAtomic(join(outDir, `${encoder}.onnx`), onnx);
  return { safetensors, onnx };
}
