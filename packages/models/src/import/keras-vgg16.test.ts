import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { encoderSpec } from '../encoders/index.ts';
import { encoderOnnx } from '../onnx/encoder.ts';
import { encoderForward, paramsFromWeights } from '../tfjs/forward.ts';
import { encoderWeightsShapes } from '../shapes.ts';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { KERAS_VGG16_CONVS, vgg16FromKeras } from './keras-vgg16.ts';
import { importTfjsLayers } from './tfjs-layers.ts';

/**
 * keras.applications.VGG16(include_top=False)'s topology and layer names built in tfjs layers
 * with random weights (the real ImageNet file is 528 MB and not available offline), saved by tfjs
 * itself, then imported: the Keras model, fed Keras' own preprocessing, is the reference for our
 * grey vgg16-keras.
 */
function kerasVgg16(size: number): tfl.Sequential {
  const model = tfl.sequential();
  let n = 0;
  [2, 2, 3, 3, 3].forEach((convs, b) => {
    for (let i = 0; i < convs; i++) {
      const filters = [64, 128, 256, 512, 512][b];
      const name = KERAS_VGG16_CONVS[n++];
      model.add(tfl.layers.conv2d({ name, filters, kernelSize: 3, padding: 'same', activation: 'relu', ...(n === 1 ? { inputShape: [size, size, 3] } : {}) }));
    }
    model.add(tfl.layers.maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2, strides: 2 }));
  });
  // Keras initialises biases to zero: random ones make the test see a mis-mapped bias
  for (const layer of model.layers) {
    const [kernel, bias] = layer.getWeights();
    if (bias) layer.setWeights([kernel, tf.randomUniform(bias.shape, -0.05, 0.05, 'float32', 5)]);
  }
  return model;
}

async function saveToArtifacts(model: tfl.LayersModel) {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved?.weightSpecs || !saved.weightData) throw new Error('tfjs saved no weights');
  const data = Array.isArray(saved.weightData) ? tf.io.CompositeArrayBuffer.join(saved.weightData) : saved.weightData;
  return { modelJson: { modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] }, weightsBin: new Uint8Array(data) };
}

describe('vgg16FromKeras (Keras VGG16 topology, random weights)', () => {
  const size = 32;
  const n = 2;
  const spec = encoderSpec('vgg16-keras');
  let model: tfl.Sequential;
  let grey: Float32Array;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = kerasVgg16(size);
    const images = await fixtureImages(n, size);
    grey = new Float32Array(n * size * size);
    for (const [i, img] of images.entries()) grey.set(img.pixels, i * size * size);
  });

  it('maps block1_conv1 ... block5_conv3 to features.0 ... features.28, the first keeping its 3 BGR channels', async () => {
    const weights = vgg16FromKeras(importTfjsLayers(await saveToArtifacts(model)));
    expect([...weights.keys()]).toEqual(encoderWeightsShapes(spec).map((s) => s.name));
    expect(weights.get('features.0.weight')?.shape).toEqual([64, 3, 3, 3]);
    expect(weights.get('features.28.weight')?.shape).toEqual([512, 512, 3, 3]);
  });

  it('our ONNX and tfjs on grey pixels equal the Keras model on the caffe-preprocessed grey-as-RGB image (+ GAP)', async () => {
    const weights = vgg16FromKeras(importTfjsLayers(await saveToArtifacts(model)));
    // keras.applications.vgg16.preprocess_input: RGB -> BGR, minus the ImageNet mean (BGR), 0..255
    const keras = tf.tidy(() => {
      const rgb = tf.tile(tf.tensor4d(grey, [n, size, size, 1]), [1, 1, 1, 3]);
      const bgr = tf.sub(tf.reverse(rgb, 3), tf.tensor1d([103.939, 116.779, 123.68]));
      return tf.mean(model.predict(bgr) as tf.Tensor, [1, 2]).dataSync() as Float32Array;
    });
    const session = await ort.InferenceSession.create(encoderOnnx(spec, weights), { executionProviders: ['cpu'] });
    const out = await session.run({ pixels: new ort.Tensor('float32', grey, [n, 1, size, size]) });
    await session.release();
    const onnx = out.features.data as Float32Array;
    const params = paramsFromWeights(weights);
    const ours = tf.tidy(() => encoderForward(spec, params, tf.tensor4d(grey, [n, size, size, 1])).dataSync() as Float32Array);
    for (const t of params.values()) t.dispose();
    const scale = keras.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const rel = (a: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - keras[i])), 0) / scale;
    console.log(`vgg16-keras: max |onnx - keras| / max |keras| = ${rel(onnx).toExponential(2)}, tfjs ${rel(ours).toExponential(2)} (max |feature| ${scale.toExponential(2)})`);
    expect(scale).toBeGreaterThan(1e-3);
    expect(rel(onnx)).toBeLessThanOrEqual(1e-4);
    expect(rel(ours)).toBeLessThanOrEqual(1e-4);
  });

  it('names the missing layer when given another architecture', () => {
    expect(() => vgg16FromKeras(new Map([['Conv1/kernel', { shape: [1], data: new Float32Array(1) }]]), 'mnv2.json')).toThrow(
      /mnv2\.json: no weight "block1_conv1\/kernel"/,
    );
  });
});
