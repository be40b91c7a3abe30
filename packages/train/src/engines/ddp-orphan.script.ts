/**
 * Test helper process (ddp.test.ts): a 2-process DDP torch engine (CPU, gloo) training without
 * pause; prints the ranks' Python pids after the first step. The test SIGKILLs this process
 * while the ranks are mid-step and checks that none of them survives.
 */
import type { Batch } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, type HeadSpec, initWeights } from '@cxr-ssl/models';
import { DdpTorchEngine } from './ddp.ts';

const encoder = encoderSpec('vgg-small');
// one view, 4 classes: any labelled batch keeps the ranks busy
const images = await fixtureImages(8, 32);
const batch: Batch = { x: Uint8Array.from(images.flatMap((im) => [...im.pixels])), y: Int32Array.from(images, (_, i) => i % 4), shape: [8, 1, 32, 32] };
const head: HeadSpec = { kind: 'classifier', views: 1, hidden: 32, classes: 4 };
const engine = new DdpTorchEngine({ ranks: 2, device: 'cpu', threads: 1 });
await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 }, seed: 1 });
await engine.trainStep(batch, { lr: 0.01 });
process.stdout.write(`${JSON.stringify({ children: engine.pids })}\n`);
for (;;) await engine.trainStep(batch, { lr: 0.01 });
