import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { encoderSpec, initWeights, isBuffer, readSafetensors } from '@cxr-ssl/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PretextConfig } from './config.ts';
import { ENGINES, type EngineName } from './engines/index.ts';
import { runPretext } from './loop.ts';
import { heldOutPretext } from './pretext-eval.ts';
import { runMethod } from './method-options.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

// Learning at the configured settings: PretextConfig's defaults (encoder, optimiser, batch), only
// the number of epochs cut down, on the fixture's real X-rays. Held-out = the test split, which
// pretext training never sees. Chance: rotation 1/4, context 1/8, jigsaw 1/100.
const python = torchPythonForTests('train/learning.test.ts');
const torchEngine = !('error' in python);

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-learn-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32, 64], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

/** mean |w - w0| / mean |w0| over the encoder's trainable weights */
function relativeChange(file: string, encoderName: string, seed: number): number {
  const encoder = encoderSpec(encoderName);
  const w0 = initWeights(encoder, undefined, seed);
  let diff = 0;
  let base = 0;
  for (const [name, t] of readSafetensors(file).weights) {
    if (isBuffer(name)) continue;
    const ref = w0.get(name)!.data;
    t.data.forEach((v, i) => {
      diff += Math.abs(v - ref[i]);
      base += Math.abs(ref[i]);
    });
  }
  return diff / base;
}

async function learn(engineName: EngineName, task: string, size: number, epochs: number) {
  const cfg = PretextConfig.parse({ task, cache: { dir: join(tmp, 'cache'), name: 'fx', size }, epochs, workers: 0, logEvery: 1000 });
  const runDir = join(tmp, `${engineName}-${task}`);
  const engine = await ENGINES[engineName](engineName === 'torch' ? { torch: { device: 'cpu' } } : { tfjs: { backend: 'wasm' } });
  try {
    await runPretext(cfg, { runDir, engine });
    const cache = openCache(cfg.cache.dir, cfg.cache.name, size);
    const test = cache.indices('test');
    cache.close();
    const method = runMethod(cfg, runDir);
    const heldOut = await heldOutPretext(engine, { cache: cfg.cache, task, samplerOptions: method.heldOutSamplerOptions, indices: test, seed: 1000, batchSize: 32, draws: 4 });
    const head = method.head(encoderSpec(cfg.encoder));
    const classes = head.kind === 'projector' ? 0 : head.classes;
    console.log(`${engineName} ${task} ${size} px, ${epochs} epochs: held-out accuracy ${heldOut.accuracy.toFixed(3)} on ${heldOut.samples} samples (chance ${(1 / classes).toFixed(3)})`);
    return { heldOut, change: relativeChange(join(runDir, 'encoder.safetensors'), cfg.encoder, cfg.seed), classes };
  } finally {
    await engine.close();
  }
}

describe.skipIf(!torchEngine && process.env.CI !== 'true')('pretext training learns at the default settings (torch engine, CPU)', { timeout: 600_000 }, () => {
  it('rotation (32 px, 30 steps of 32): >= 90 % held-out', async () => {
    const { heldOut, change } = await learn('torch', 'rotation', 32, 30);
    expect(heldOut.samples).toBe(128);
    expect(heldOut.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(change).toBeGreaterThan(0.02);
  });

  for (const [task, floor] of [
    ['context', 0.3],
    ['jigsaw', 0.2],
  ] as const) {
    it(`${task} (64 px, 60 steps of 32): held-out accuracy >= ${floor}, chance well below`, async () => {
      const { heldOut, change, classes } = await learn('torch', task, 64, 60);
      expect(1 / classes).toBeLessThan(floor / 2);
      expect(heldOut.accuracy).toBeGreaterThanOrEqual(floor);
      expect(change).toBeGreaterThan(0.02);
    });
  }
});

describe('pretext training learns at the default settings (tfjs engine, wasm)', { timeout: 600_000 }, () => {
  it('rotation (32 px, 30 steps of 32): >= 90 % held-out', async () => {
    const { heldOut, change } = await learn('tfjs', 'rotation', 32, 30);
    expect(heldOut.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(change).toBeGreaterThan(0.02);
  });
});
