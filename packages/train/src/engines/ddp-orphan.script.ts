/**
 * Test helper process (ddp.test.ts): a 2-process DDP torch engine (CPU, gloo) training without
 * pause; prints the ranks' Python pids after the first step. The test SIGKILLs this process
 * while the ranks are mid-step and checks that none of them survives.
 */
import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { encoderSpec, headSpec, initWeights } from '@cxr-ssl/models';
import { DdpTorchEngine } from './ddp.ts';

const encoder = encoderSpec('vgg-small');
const { batch, classes } = taskBatch('rotation', await fixtureImages(8, 32), 1);
const head = headSpec('rotation', encoder, { classes, hidden: 32 });
const engine = new DdpTorchEngine({ ranks: 2, device: 'cpu', threads: 1 });
await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 }, seed: 1 });
await engine.trainStep(batch, 0.01);
process.stdout.write(`${JSON.stringify({ children: engine.pids })}\n`);
for (;;) await engine.trainStep(batch, 0.01);
