import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importTfjsLayers } from './tfjs-layers.ts';

/** A real tfjs export: a small Keras model saved by tfjs itself, the format's reference writer. */
async function savedArtifacts(): Promise<{ modelJson: object; weightsBin: Uint8Array; model: tfl.LayersModel }> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ name: 'stem', inputShape: [8, 8, 3], filters: 4, kernelSize: 3, useBias: false }),
      tfl.layers.batchNormalization({ name: 'stem_bn', epsilon: 1e-3 }),
      tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ name: 'fc', units: 3 }),
    ],
  });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved?.weightSpecs || !saved.weightData) throw new Error('tfjs saved no weights');
  const data = Array.isArray(saved.weightData) ? tf.io.CompositeArrayBuffer.join(saved.weightData) : saved.weightData;
  return {
    modelJson: { modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] },
    weightsBin: new Uint8Array(data),
    model,
  };
}

describe('importTfjsLayers', () => {
  let saved: Awaited<ReturnType<typeof savedArtifacts>>;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-layers-'));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    await tf.setBackend('cpu');
    saved = await savedArtifacts();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('returns every weight tfjs saved, by name, with its Keras shape and values', () => {
    const weights = importTfjsLayers({ modelJson: saved.modelJson, weightsBin: saved.weightsBin });
    const expected = saved.model.weights;
    expect([...weights.keys()].sort()).toEqual(expected.map((w) => w.originalName).sort());
    for (const w of expected) {
      const got = weights.get(w.originalName);
      expect(got?.shape, w.originalName).toEqual(w.shape);
      expect(got?.data).toEqual(w.read().dataSync());
    }
    expect(weights.get('dw/depthwise_kernel')?.shape).toEqual([3, 3, 4, 2]);
  });

  it('reads a folder whose weights are split over several groups and shards', () => {
    const dir = tempDir();
    const entries = (saved.modelJson as { weightsManifest: [{ weights: tf.io.WeightsManifestEntry[] }] }).weightsManifest[0].weights;
    const bytesOf = (e: tf.io.WeightsManifestEntry) => 4 * e.shape.reduce((a, b) => a * b, 1);
    const firstBytes = bytesOf(entries[0]) + bytesOf(entries[1]);
    const cut = 8; // shard boundaries need not fall between weights
    writeFileSync(join(dir, 'a.bin'), saved.weightsBin.subarray(0, cut));
    writeFileSync(join(dir, 'b.bin'), saved.weightsBin.subarray(cut, firstBytes));
    writeFileSync(join(dir, 'c.bin'), saved.weightsBin.subarray(firstBytes));
    const manifest = [
      { paths: ['a.bin', 'b.bin'], weights: entries.slice(0, 2) },
      { paths: ['c.bin'], weights: entries.slice(2) },
    ];
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...saved.modelJson, weightsManifest: manifest }));
    const fromDir = importTfjsLayers(dir);
    const fromMemory = importTfjsLayers({ modelJson: saved.modelJson, weightsBin: saved.weightsBin });
    expect([...fromDir.entries()]).toEqual([...fromMemory.entries()]);
  });

  it('dequantises uint8 weights as q * scale + min', () => {
    const modelJson = {
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'q/kernel', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } }] }],
    };
    const weights = importTfjsLayers({ modelJson, weightsBin: new Uint8Array([0, 2, 255]) });
    expect(weights.get('q/kernel')?.data).toEqual(new Float32Array([-1, 0, 126.5]));
  });

  it('says which file is wrong and what to do', () => {
    const dir = tempDir();
    expect(() => importTfjsLayers(dir)).toThrow(`Cannot read ${join(dir, 'model.json')}`);
    writeFileSync(join(dir, 'model.json'), '{"modelTopology": {}}');
    expect(() => importTfjsLayers(dir)).toThrow(/model\.json: not a TensorFlow\.js layers model\.json \(weightsManifest/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(saved.modelJson));
    expect(() => importTfjsLayers(dir)).toThrow(`Cannot read ${join(dir, 'weights.bin')}`);
    writeFileSync(join(dir, 'weights.bin'), saved.weightsBin.subarray(0, 100));
    expect(() => importTfjsLayers(dir)).toThrow(/runs past the end of the weights \(100 bytes\): a shard is missing or truncated/);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([saved.weightsBin, new Uint8Array(4)]));
    expect(() => importTfjsLayers(dir)).toThrow(/shards hold/);
    const f16 = { weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'h/kernel', shape: [1], dtype: 'float32', quantization: { dtype: 'float16' } }] }] };
    expect(() => importTfjsLayers({ modelJson: f16, weightsBin: new Uint8Array(2), source: 'half' })).toThrow(/half: weight "h\/kernel" is float32 quantised as float16/);
  });
});
