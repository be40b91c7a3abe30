import type { Batch } from '@cxr-ssl/data';
import { encoderSpec, headSpec, initWeights, } from '@cxr-ssl/models';
import { describe, expect, it } from 'vitest';
import type { EngineInit } from '../engine.ts';
import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';
import { TorchProcessError } from './protocol.ts';
import { alive, maxDiff, spawnHelper, survivors } from './test-util.ts';
import { defaultTorchThreads, TorchEngine } from './torch.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

const python = torchPythonForTests('train/engines/torch.test.ts');
const noTorch = 'error' in python;

const OPT = { lr: 0.01, momentum: 0.9, decay: 0.9, weightDecay: 0.0005 };

function setup(task: 'rotation' | 'context' | 'jigsaw', classes: number, seed = 3): EngineInit {
  const encoder = encoderSpec('vgg-small');
  const head = headSpec(task, encoder, { classes, hidden: 64 });
  return { encoder, head, weights: initWeights(encoder, head, seed), optimizer: OPT, seed };
}

async function trainLosses(engine: TorchEngine, batch: Batch, steps: number, lr: number): Promise<number[]> {
  // all steps are sent at once, like the loop does with inFlight: answers must come back in order
  const results = await Promise.all(Array.from({ length: steps }, () => engine.trainStep(batch, { lr: lr })));
  return results.map((r) => r.loss);
}

const _mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('torch CPU threads by default', () => {
  it('every core under 4 (the loop samples in its own thread), all but one from 4 up (sampling threads beside); split over DDP ranks', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultTorchThreads(1, cores))).toEqual([1, 2, 3, 3, 15]);
    expect([2, 16].map((cores) => defaultTorchThreads(2, cores))).toEqual([1, 7]);
    expect(defaultTorchThreads(4, 2)).toBe(1);
  });
});

describe.skipIf(noTorch)('TorchEngine (Python child, CPU)', () => {
  // Learning itself is tested at the configured settings on held-out X-rays in ../learning.test.ts.
  it('state() returns the canonical names and moved weights; a new engine resumes from it', async () => {
    const images = await fixtureImages(8, 32);
    const { batch, classes } = taskBatch('rotation', images, 5);
    const init = setup('rotation', classes);
    const a = new TorchEngine({ device: 'cpu', threads: 2 });
    const b = new TorchEngine({ device: 'cpu', threads: 2 });
    const c = new TorchEngine({ device: 'cpu', threads: 2 });
    try {
      await a.init(init);
      await trainLosses(a, batch, 2, 0.05);
      const { weights, optimizer } = await a.state();
      expect([...weights.keys()]).toEqual([...init.weights.keys()]);
      expect([...optimizer.keys()]).toEqual([...init.weights.keys()]);
      for (const [name, t] of weights) expect(t.shape, name).toEqual(init.weights.get(name)!.shape);
      expect(maxDiff(weights, init.weights)).toBeGreaterThan(1e-4);
      // 2 steps + resume + 1 step == 3 uninterrupted steps (momentum buffers travel too)
      await b.init({ ...init, weights, optimizerState: optimizer });
      await c.init(init);
      const [resumed] = await trainLosses(b, batch, 1, 0.05);
      const straight = await trainLosses(c, batch, 3, 0.05);
      expect(resumed).toBeCloseTo(straight[2], 5);
      expect(maxDiff((await b.state()).weights, (await c.state()).weights)).toBeLessThan(1e-5);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('a Python exception becomes a TorchProcessError carrying the Python message', async () => {
    const engine = new TorchEngine({ device: 'cpu', threads: 1 });
    await engine.init(setup('rotation', 4));
    const failure = engine.fail('planted failure 42');
    await expect(failure).rejects.toBeInstanceOf(TorchProcessError);
    await expect(failure).rejects.toThrow(/Python failed on "fail": RuntimeError: planted failure 42/);
    const images = await fixtureImages(2, 32);
    await expect(engine.trainStep(taskBatch('rotation', images, 1).batch, { lr: 0.01 })).rejects.toThrow(/planted failure 42/);
    await engine.close();
  });

  it('weights that do not fit the spec fail init with the name and both shapes', async () => {
    const init = setup('rotation', 4);
    const wrong = new Map(init.weights);
    wrong.set('head.fc2.weight', { shape: [5, 64], data: new Float32Array(5 * 64) });
    const engine = new TorchEngine({ device: 'cpu', threads: 1 });
    await expect(engine.init({ ...init, weights: wrong })).rejects.toThrow(/head.fc2.weight has shape \[5, 64\], the spec needs \[4, 64\]/);
    await engine.close();
  });

  it('a batch whose bytes do not match its shape is refused before it reaches Python', async () => {
    const engine = new TorchEngine({ device: 'cpu', threads: 1 });
    await engine.init(setup('rotation', 4));
    const bad: Batch = { x: new Uint8Array(10), y: new Int32Array(1), shape: [1, 1, 4, 4] };
    await expect(engine.trainStep(bad, { lr: 0.01 })).rejects.toThrow(/10 bytes, shape \[1,1,4,4\] needs 16/);
    await engine.close();
  });

  it('the Python child dies with its parent, even on SIGKILL', async () => {
    const { parent, said } = await spawnHelper('orphan-parent.script.ts');
    const child = said.child as number;
    expect(alive(child)).toBe(true);
    parent.kill('SIGKILL');
    expect(await survivors([child])).toEqual([]);
  });
});


