import { makeBatch } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { METHODS } from '../methods/index.ts';
import { parseMethod } from '../method-options.ts';
import { TorchEngine } from './torch.ts';

const python = torchPythonForTests('train/engines/render-pipe.test.ts');

/**
 * The pipe's planned batches (protocol.ts batchFrame, cxr_torch/trainer.py read_batch): the torch
 * engine paints the plans on its device, and the network sees what it sees when TypeScript paints
 * them (the renderers agree to a grey level on a few pixels in 10^5: packages/torch/src/render-parity.test.ts).
 */
describe.skipIf('error' in python)('planned batches over the pipe', () => {
  let images: Awaited<ReturnType<typeof fixtureImages>> = [];
  beforeAll(async () => {
    images = await fixtureImages(6, 64);
  });
  const encoder = encoderSpec('vgg-small-bn');
  // the pipe's cases, one engine each (a Python start costs seconds): labels and a quarter turn
  // (rotation), 9 patch views (jigsaw), no labels and a local block (dino; simclr, moco and byol send
  // dino's global block alone)
  const cases = ['rotation', 'jigsaw', 'dino'];
  expect(cases.every((m) => METHODS[m].engines.includes('torch'))).toBe(true);

  it.each(cases)('%s: a planned batch scores as its painted twin, and trains', async (m) => {
    const run = parseMethod(m, {});
    const head = run.head(encoder);
    const source = { get: (i: number) => images[i] };
    const rows = [0, 1, 2, 3, 4, 5];
    const painted = makeBatch(source, run.method.sampler, run.samplerOptions, rows, 11);
    const planned = makeBatch(source, run.method.sampler, run.samplerOptions, rows, 11, false);
    expect(planned.planned).toBeDefined();
    const engine = new TorchEngine({ device: 'cpu', threads: 1 });
    try {
      await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01 }, loss: run.loss, seed: 1 });
      const a = await engine.evalStep(painted);
      const b = await engine.evalStep(planned);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-3 * Math.max(1, Math.abs(a.loss)));
      expect(b.accuracy).toBe(a.accuracy);
      const t = await engine.trainStep(planned, run.scalarsAt(0, 10, 0.01));
      expect(Number.isFinite(t.loss)).toBe(true);
      if (m !== 'dino') return;
      // a plan naming a pixel op this engine lacks (another version's TypeScript) is refused, naming the field
      const views = planned.planned!.views;
      const stages = [{ ...views.program.stages[0], ops: ['sharpen', ...views.program.stages[0].ops.slice(1)] }];
      const bad = { ...planned, planned: { ...planned.planned!, views: { ...views, program: { ...views.program, stages } } } };
      await expect(engine.evalStep(bad)).rejects.toThrow(/render\.views\.program\.stages\[0\]\.ops\[0\]: unknown pixel op 'sharpen'/);
    } finally {
      await engine.close();
    }
  });
});
