import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { encoderSpec, headSpec, initWeights, } from '@cxr-ssl/models';
import { describe, expect, it } from 'vitest';
import type { EngineInit } from '../engine.ts';
import { DdpTorchEngine } from './ddp.ts';
import { alive, maxDiff, spawnHelper, survivors } from './test-util.ts';
import { TorchEngine } from './torch.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/ddp.test.ts');
const noTorch = 'error' in python;



describe.skipIf(noTorch)('DdpTorchEngine (--gpus N; 2 CPU processes, gloo)', () => {
  // fp64 (the engine's CPU test mode): in float32 a last-bit difference in the 2-rank gradient sum can move a
  // max-pool index and compound over steps (one CI run: weights 8.6e-6 apart, momentum 8.2e-5, over the 1e-5 bound)
  it('2-rank steps give the weights of one process on the same global batches (vgg-small, fp64: equal up to rounding)', async () => {
    const images = await fixtureImages(16, 32);
    const batches = [1, 2, 3].map((seed) => taskBatch('rotation', images, seed).batch);
    const encoder = encoderSpec('vgg-small');
    const head = headSpec('rotation', encoder, { classes: 4, hidden: 32 });
    const init: EngineInit = { encoder, head, weights: initWeights(encoder, head, 4), optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }, seed: 4 };
    const one = new TorchEngine({ device: 'cpu', threads: 1, precision: 'fp64' });
    const ddp = new DdpTorchEngine({ ranks: 2, device: 'cpu', threads: 1, precision: 'fp64' });
    try {
      await Promise.all([one.init(init), ddp.init(init)]);
      expect(ddp.device).toMatch(/DDP rank 0\/2 \(gloo\)/);
      for (const b of batches) {
        const [a, d] = await Promise.all([one.trainStep(b, { lr: 0.05 }), ddp.trainStep(b, { lr: 0.05 })]);
        expect(Math.abs(a.loss - d.loss)).toBeLessThan(1e-5);
        expect(d.accuracy).toBeCloseTo(a.accuracy, 6);
      }
      const single = await one.state();
      const [r0, r1] = await ddp.rankStates();
      const moved = maxDiff(single.weights, init.weights);
      const diff = maxDiff(single.weights, r0.weights);
      console.log(`DDP parity after 3 steps: max |single - ddp| = ${diff.toExponential(2)} (weights moved up to ${moved.toExponential(2)}); momentum ${maxDiff(single.optimizer, r0.optimizer).toExponential(2)}`);
      expect(moved).toBeGreaterThan(1e-3);
      expect(diff).toBeLessThan(1e-9);
      expect(maxDiff(single.optimizer, r0.optimizer)).toBeLessThan(1e-9);
      expect(maxDiff(r0.weights, r1.weights)).toBe(0); // all-reduced gradients: identical replicas
      // held-out batches of any size: 7 samples over 2 ranks
      const odd = taskBatch('rotation', images.slice(0, 7), 9).batch;
      const [ea, ed] = await Promise.all([one.evalStep(odd), ddp.evalStep(odd)]);
      expect(Math.abs(ea.loss - ed.loss)).toBeLessThan(1e-5);
      expect(ed.accuracy).toBeCloseTo(ea.accuracy, 6);
      await expect(ddp.trainStep(odd, { lr: 0.05 })).rejects.toThrow(/batch of 7 cannot be split evenly over 2 processes \(--gpus 2\)/);
    } finally {
      await Promise.all([one.close(), ddp.close()]);
    }
  });

  it('simclr: nt-xent over the global batch (every rank gathers the others\' views), 2 ranks = one process', async () => {
    const images = await fixtureImages(16, 32);
    const batches = [1, 2].map((seed) => taskBatch('simclr', images, seed).batch);
    const encoder = encoderSpec('vgg-small');
    const head = headSpec('simclr', encoder, { hidden: 32, out: 16 });
    const init: EngineInit = { encoder, head, weights: initWeights(encoder, head, 4), optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }, loss: { name: 'nt-xent', temperature: 0.2 }, seed: 4 };
    const one = new TorchEngine({ device: 'cpu', threads: 1 });
    const ddp = new DdpTorchEngine({ ranks: 2, device: 'cpu', threads: 1 });
    try {
      await Promise.all([one.init(init), ddp.init(init)]);
      for (const b of batches) {
        const [a, d] = await Promise.all([one.trainStep(b, { lr: 0.05 }), ddp.trainStep(b, { lr: 0.05 })]);
        expect(Math.abs(a.loss - d.loss)).toBeLessThan(1e-5); // the mean over each rank's anchors = the global mean
        expect(d.accuracy).toBeCloseTo(a.accuracy, 6);
      }
      const single = await one.state();
      const [r0] = await ddp.rankStates();
      const diff = maxDiff(single.weights, r0.weights);
      console.log(`DDP simclr parity after 2 steps: max |single - ddp| = ${diff.toExponential(2)} (moved ${maxDiff(single.weights, init.weights).toExponential(2)})`);
      expect(maxDiff(single.weights, init.weights)).toBeGreaterThan(1e-4);
      expect(diff).toBeLessThan(1e-5);
    } finally {
      await Promise.all([one.close(), ddp.close()]);
    }
  });

  it('no rank survives its parent, even a SIGKILL while the ranks are mid-step', async () => {
    const { parent, said } = await spawnHelper('ddp-orphan.script.ts');
    const children = said.children as number[];
    expect(children).toHaveLength(2);
    for (const pid of children) expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await survivors(children)).toEqual([]);
  });
});
