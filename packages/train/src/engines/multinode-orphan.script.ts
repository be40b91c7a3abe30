/**
 * Test helper process (multinode.test.ts): node `argv[2]` of a 2-node run on 127.0.0.1:`argv[3]`,
 * one CPU rank each (gloo, TCP rendezvous), training without pause; prints its rank's Python pid
 * after the first step. The test SIGKILLs one node's parent and checks that no rank survives.
 */
import type { Batch } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, type HeadSpec, initWeights } from '@cxr-ssl/models';
import { DdpTorchEngine } from './ddp.ts';

const [nodeRank, port] = process.argv.slice(2).map(Number);
const encoder = encoderSpec('vgg-small-bn');
const images = await fixtureImages(8, 32);
const batch: Batch = { x: Uint8Array.from(images.flatMap((im) => [...im.pixels])), y: Int32Array.from(images, (_, i) => i % 4), shape: [8, 1, 32, 32] };
const head: HeadSpec = { kind: 'classifier', views: 1, hidden: 32, classes: 4 };
const engine = new DdpTorchEngine({ ranks: 1, nodes: { count: 2, rank: nodeRank, masterAddr: '127.0.0.1', masterPort: port }, device: 'cpu', threads: 1 });
await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 }, seed: 1, startStep: 0 });
await engine.trainStep(batch, { lr: 0.01 });
process.stdout.write(`${JSON.stringify({ children: engine.pids })}\n`);
for (;;) await engine.trainStep(batch, { lr: 0.01 });
