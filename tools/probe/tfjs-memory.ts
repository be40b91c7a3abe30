/**
 * The tfjs wasm heap after one train step (it only grows, so this is the step's peak) against
 * packages/train/src/memory.ts's activation count: the factor TFJS_BYTES_PER_ACTIVATION comes from here.
 *   npx tsx tools/probe/tfjs-memory.ts [--encoder vgg-small-bn] [--method rotation] [--size 64] [--batch 8]
 */
import { parseArgs } from 'node:util';
import { getSampler } from '@cxr-ssl/data';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { activationFloats, methodHead, methodLoss } from '@cxr-ssl/train';
import { TfjsEngine } from '../../packages/train/src/engines/tfjs.ts';
import * as tf from '@tensorflow/tfjs-core';

const { values } = parseArgs({ options: { encoder: { type: 'string', default: 'vgg-small-bn' }, method: { type: 'string', default: 'rotation' }, size: { type: 'string', default: '64' }, batch: { type: 'string', default: '8' } } });
const size = Number(values.size);
const batch = Number(values.batch);
const encoder = encoderSpec(values.encoder!);
const sampler = getSampler(values.method!);
const opts = sampler.options.parse({}) as Record<string, unknown>;
const { views, patch } = sampler.shape(size, opts);
const head = methodHead(values.method!, encoder, opts);
const engine = new TfjsEngine({ backend: 'wasm' });
await engine.init({ encoder, head, weights: initWeights(encoder, head, 0), optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0 }, loss: methodLoss(values.method!, opts), seed: 0 });
const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
const before = heap();
const x = new Uint8Array(batch * views * patch * patch).map((_, i) => (i * 37) % 251);
await engine.trainStep({ x, shape: [batch, views, patch, patch], y: sampler.classes ? new Int32Array(batch) : undefined } as never, { lr: 0.01 });
const after = heap();
const floats = batch * views * activationFloats(encoder, patch);
console.log(JSON.stringify({ encoder: encoder.name, method: values.method, size, batch, views, patch, heapBefore: before, heapAfter: after, activationFloats: floats, bytesPerActivation: +(after / floats).toFixed(1) }));
await engine.close();
