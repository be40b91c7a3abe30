import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Batch, closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { TorchEngine } from './engines/torch.ts';
import { runPretext } from './loop.ts';
import { MetricsLog } from './metrics-log.ts';
import { CPU_RENDERER, RenderOption, resolveRenderer } from './render.ts';

const python = torchPythonForTests('train/render.test.ts');

describe('the render option', () => {
  it('auto: torch where the engine computes on CUDA, the measured CPU choice on CPU, TypeScript for an engine without a renderer', () => {
    expect(RenderOption.parse(undefined)).toBe('auto');
    expect(resolveRenderer('auto', { name: 'torch', rendersOn: 'cuda' })).toBe('torch');
    expect(resolveRenderer('auto', { name: 'torch', rendersOn: 'cpu' })).toBe(CPU_RENDERER);
    expect(resolveRenderer('auto', { name: 'tfjs' })).toBe('typescript');
    expect(resolveRenderer('torch', { name: 'torch', rendersOn: 'cpu' })).toBe('torch');
    expect(resolveRenderer('typescript', { name: 'torch', rendersOn: 'cuda' })).toBe('typescript');
    expect(() => resolveRenderer('torch', { name: 'tfjs' })).toThrow(/render torch: the tfjs engine has no renderer of its own/);
    expect(() => RenderOption.parse('gpu')).toThrow();
  });

  describe.skipIf('error' in python)('a run with --render torch', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cxr-render-run-'));
    afterAll(async () => {
      await closeBatchPools();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('ships plans to the torch engine, for training and the held-out pass', async () => {
      const cacheDir = join(tmp, 'cache');
      await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
      const engine = new TorchEngine({ device: 'cpu', threads: 1 });
      const seen: { kind: string; planned: boolean }[] = [];
      const trainStep = engine.trainStep.bind(engine);
      const evalStep = engine.evalStep.bind(engine);
      engine.trainStep = (b: Batch, s) => {
        seen.push({ kind: 'train', planned: !!b.planned });
        return trainStep(b, s);
      };
      engine.evalStep = (b: Batch) => {
        seen.push({ kind: 'eval', planned: !!b.planned });
        return evalStep(b);
      };
      let renderer: string | undefined;
      try {
        await runPretext(
          { task: 'simclr', encoder: 'vgg-small', cache: { dir: cacheDir, name: 'fx', size: 32 }, epochs: 1, batchSize: 8, stepsPerEpoch: 2, seed: 1, workers: 0, render: 'torch' },
          { runDir: join(tmp, 'run'), engine, loggers: [], onEvent: (e) => e.type === 'start' && (renderer = e.renderer) },
        );
      } finally {
        await engine.close();
      }
      expect(renderer).toBe('torch');
      expect(seen.filter((s) => s.kind === 'train')).toEqual([{ kind: 'train', planned: true }, { kind: 'train', planned: true }]);
      expect(seen.some((s) => s.kind === 'eval')).toBe(true);
      expect(seen.every((s) => s.planned)).toBe(true);
      // the held-out pass's collapse measure: its forward takes the planned batch painted by TypeScript
      const heldOut = new MetricsLog(join(tmp, 'run', 'metrics.jsonl')).read().filter((l) => l.kind === 'heldout');
      expect(heldOut.at(-1)?.valSpread).toBeTypeOf('number');
    });
  });
});
