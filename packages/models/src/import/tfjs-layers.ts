import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Tensor } from '../spec.ts';

/**
 * Reader for the TensorFlow.js layers format (https://www.tensorflow.org/js/guide/save_load):
 * model.json = {modelTopology, weightsManifest: [{paths: [shard files], weights: [{name, shape,
 * dtype, quantization?}]}]}; the weight bytes are the shards of every group, concatenated in
 * manifest order, each weight's values contiguous, row-major, little-endian.
 * Returns the Keras weights by their manifest name (`Conv1/kernel`, `bn_Conv1/moving_mean`) in
 * their Keras layouts (conv HWIO, depthwise HWC1, dense [in, out]); mapping them to canonical
 * names is the job of the per-architecture converters (keras-mobilenetv2.ts, keras-vgg16.ts).
 */
export type KerasWeights = Map<string, Tensor>;

const ManifestEntry = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string(),
  quantization: z
    .object({ dtype: z.string(), scale: z.number().optional(), min: z.number().optional() })
    .optional(),
});
const ModelJson = z.object({
  modelTopology: z.unknown().optional(),
  weightsManifest: z.array(z.object({ paths: z.array(z.string().min(1)), weights: z.array(ManifestEntry) })).min(1),
});
export type TfjsModelJson = z.infer<typeof ModelJson>;

/** Bytes per stored value for the dtypes we dequantise to float32. */
const STORED_BYTES: Record<string, number> = { float32: 4, uint8: 1, uint16: 2 };

export interface TfjsLayersArtifacts {
  /** the parsed model.json (an object or its text) */
  modelJson: unknown;
  /** every shard of every weight group, concatenated in manifest order */
  weightsBin: Uint8Array;
  /** names the source in error messages */
  source?: string;
}

export function parseTfjsModelJson(json: unknown, source = 'model.json'): TfjsModelJson {
  let raw = json;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${source}: not JSON (${(err as Error).message}). Point at a TensorFlow.js layers model.json.`);
    }
  }
  const parsed = ModelJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${source}: not a TensorFlow.js layers model.json (${issue?.path.join('.')}: ${issue?.message}). ` +
        'Export the model with tfjs `model.save()` or tensorflowjs_converter --output_format tfjs_layers_model.',
    );
  }
  return parsed.data;
}

/** Reads a model folder (model.json + its shards) or in-memory artifacts into Keras weights by name. */
export function importTfjsLayers(from: string | TfjsLayersArtifacts): KerasWeights {
  if (typeof from !== 'string') {
    const source = from.source ?? 'tfjs layers artifacts';
    return decodeWeights(parseTfjsModelJson(from.modelJson, `${source} model.json`), from.weightsBin, source);
  }
  const jsonPath = join(from, 'model.json');
  const manifest = parseTfjsModelJson(readOrFail(jsonPath).toString('utf8'), jsonPath);
  const shards = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => readOrFail(join(from, p))));
  return decodeWeights(manifest, Buffer.concat(shards), from);
}

function readOrFail(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}. A tfjs layers model folder holds model.json and the shard files it names.`);
  }
}

function decodeWeights(manifest: TfjsModelJson, bytes: Uint8Array, source: string): KerasWeights {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights: KerasWeights = new Map();
  let offset = 0;
  for (const entry of manifest.weightsManifest.flatMap((group) => group.weights)) {
    const stored = entry.quantization?.dtype ?? entry.dtype;
    const size = STORED_BYTES[stored];
    if (size === undefined || entry.dtype !== 'float32') {
      throw new Error(
        `${source}: weight "${entry.name}" is ${entry.dtype}${entry.quantization ? ` quantised as ${stored}` : ''}; ` +
          'only float32 weights (plain, or uint8/uint16-quantised) are read. Re-export without float16 quantisation.',
      );
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (offset + count * size > bytes.length) {
      throw new Error(
        `${source}: weight "${entry.name}" [${entry.shape}] runs past the end of the weights (${bytes.length} bytes): a shard is missing or truncated.`,
      );
    }
    const data = new Float32Array(count);
    const scale = entry.quantization?.scale ?? 1;
    const min = entry.quantization?.min ?? 0;
    for (let i = 0; i < count; i++) {
      const at = offset + i * size;
      if (stored === 'float32') data[i] = view.getFloat32(at, true);
      else data[i] = (stored === 'uint8' ? view.getUint8(at) : view.getUint16(at, true)) * scale + min;
    }
    if (weights.has(entry.name)) throw new Error(`${source}: weight "${entry.name}" appears twice in the manifest.`);
    weights.set(entry.name, { shape: entry.shape, data });
    offset += count * size;
  }
  if (offset !== bytes.length) {
    throw new Error(`${source}: the manifest describes ${offset} bytes of weights but the shards hold ${bytes.length}. Re-export the model.`);
  }
  return weights;
}
