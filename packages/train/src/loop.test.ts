import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLatestCheckpoint } from './checkpoint.ts';
import { TfjsEngine } from './engines/tfjs.ts';
import { MetricsLog } from './metrics-log.ts';
import { writeSafetensors } from '@cxr-ssl/models';
import { NonFiniteLossError, runPretext } from './loop.ts';

// The orchestration on real fixture X-rays with the in-process engine: tiny encoder work, real
// cache, real checkpoints. Rotation at 32 px keeps each step to a few milliseconds.
let tmp: string;
let cacheDir: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-loop-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

const config = (over: Record<string, unknown> = {}) => ({
  task: 'rotation',
  encoder: 'vgg-small',
  cache: { dir: cacheDir, name: 'fx', size: 32 },
  epochs: 2,
  batchSize: 8,
  stepsPerEpoch: 3,
  optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 },
  schedule: { name: 'cosine', warmupSteps: 2 },
  seed: 3,
  workers: 1,
  logEvery: 1,
  ...over,
});

async function train(runDir: string, cfg: unknown, opts: { resume?: boolean; stopAfterStep?: number } = {}) {
  const engine = new TfjsEngine({ backend: 'wasm' });
  const abort = new AbortController();
  try {
    await runPretext(cfg, {
      runDir,
      engine,
      resume: opts.resume,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === opts.stopAfterStep) abort.abort();
      },
    });
  } finally {
    await engine.close();
  }
}

describe('runPretext', () => {
  it('trains, logs every step and epoch, checkpoints, and exports the encoder', async () => {
    const run = join(tmp, 'plain');
    await train(run, config());
    const lines = new MetricsLog(join(run, 'metrics.jsonl')).read();
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.filter((l) => l.kind === 'epoch').map((l) => l.epoch)).toEqual([0, 1]);
    // config.json keeps `render: auto`; the start line records what it resolved to on this engine
    expect(lines.filter((l) => l.kind === 'start')).toEqual([expect.objectContaining({ step: 0, engine: 'tfjs', renderer: 'typescript', resumed: false })]);
    // lr per step, logged: 2 warm-up steps then a half cosine over the remaining 4 (6 in all)
    const c = (p: number) => 0.005 * (1 + Math.cos(Math.PI * p));
    const want = [0.005, 0.01, c(0), c(1 / 4), c(2 / 4), c(3 / 4)];
    const got = lines.filter((l) => l.kind === 'step').map((l) => l.lr as number);
    for (const [i, lr] of got.entries()) expect(lr).toBeCloseTo(want[i], 12);
    const saved = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(saved.schedule).toEqual({ name: 'cosine', warmupSteps: 2, minLr: 0 });
    // the task's defaults are recorded: rotation augments by default
    expect(saved.taskOptions.augment.map((a: { name: string }) => a.name)).toEqual(['crop', 'intensity']);
    const ckpt = readLatestCheckpoint(run)!;
    expect(ckpt.state).toMatchObject({ epoch: 2, batch: 0, step: 6, engine: 'tfjs' });
    expect([...ckpt.weights.keys()]).toContain('head.fc2.weight');
    expect(readFileSync(join(run, 'encoder.onnx')).length).toBeGreaterThan(1000);
  });

  it('an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
    const whole = join(tmp, 'whole');
    const split = join(tmp, 'split');
    await train(whole, config());
    await train(split, config(), { stopAfterStep: 4 }); // mid-epoch 2: checkpoint at (epoch 1, batch 1)
    expect(readLatestCheckpoint(split)!.state).toMatchObject({ epoch: 1, batch: 1, step: 4 });
    await train(split, config(), { resume: true });
    expect(readFileSync(join(split, 'encoder.safetensors')).equals(readFileSync(join(whole, 'encoder.safetensors')))).toBe(true);
    const losses = (dir: string) => new MetricsLog(join(dir, 'metrics.jsonl')).read().filter((l) => l.kind === 'step').map((l) => l.loss);
    expect(losses(split)).toEqual(losses(whole));
    const starts = new MetricsLog(join(split, 'metrics.jsonl')).read().filter((l) => l.kind === 'start');
    expect(starts.map((l) => [l.step, l.resumed])).toEqual([[0, false], [4, true]]);
  });

  it('refuses to resume with other options, and to overwrite a finished run without --resume', async () => {
    const run = join(tmp, 'plain');
    await expect(train(run, config({ seed: 4 }), { resume: true })).rejects.toThrow(/different configuration/);
    await expect(train(run, config())).rejects.toThrow(/--resume/);
  });

  it('stops on a non-finite loss naming the step, keeping the last good checkpoint of that run', async () => {
    // the engine reports NaN from step 5 on (epoch 2 of 3 steps): what a diverging run looks like to the loop
    const run = join(tmp, 'nan');
    const engine = new TfjsEngine({ backend: 'wasm' });
    const trainStep = engine.trainStep.bind(engine);
    let calls = 0;
    engine.trainStep = async (batch, scalars) => {
      const r = await trainStep(batch, scalars);
      return ++calls >= 5 ? { ...r, loss: Number.NaN } : r;
    };
    const boom = await runPretext(config({ epochs: 3, checkpointEvery: 3 }), { runDir: run, engine }).catch((e) => e);
    await engine.close();
    expect(boom).toBeInstanceOf(NonFiniteLossError);
    expect(String(boom)).toMatch(/loss became NaN at step 5 \(epoch 2, batch 2\).*lower learning rate/s);
    expect(readLatestCheckpoint(run)!.state).toMatchObject({ epoch: 1, batch: 0, step: 3 });
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).not.toMatch(/NaN|null/);
  });

  it('a learning rate that really diverges ends in NonFiniteLossError, not in NaN weights', async () => {
    const boom = await train(join(tmp, 'nan2'), config({ optimizer: { lr: 1e12, momentum: 0.9, weightDecay: 0 } })).catch((e) => e);
    expect(boom).toBeInstanceOf(NonFiniteLossError);
    expect(String(boom)).toMatch(/at step \d+.*--lr 100000000000/s);
  });

  it('refuses init weights of another shape (e.g. an RGB first conv), naming the weight and the fix', async () => {
    const file = join(tmp, 'rgb.safetensors');
    writeSafetensors(file, new Map([['features.0.weight', { shape: [32, 3, 3, 3], data: new Float32Array(32 * 27) }]]));
    const err = await train(join(tmp, 'rgb'), config({ init: file })).catch((e) => e);
    expect(String(err)).toMatch(/features\.0\.weight has shape 32x3x3x3, vgg-small needs 32x1x3x3.*import-weights/);
  });

  it('refuses init weights made for another encoder (its input scaling), naming the encoder to use', async () => {
    const file = join(tmp, 'keras.safetensors');
    writeSafetensors(file, new Map([['features.0.weight', { shape: [32, 1, 3, 3], data: new Float32Array(32 * 9) }]]), { encoder: 'vgg16-keras' });
    const err = await train(join(tmp, 'keras'), config({ init: file })).catch((e) => e);
    expect(String(err)).toContain(`${file} holds weights for encoder vgg16-keras, not vgg-small: run with --encoder vgg16-keras`);
  });

  it("warns, before any training, when a method's options fit the data poorly (MoCo's queue >= the train split)", async () => {
    const warnings = async (queue: number) => {
      const seen: string[] = [];
      const engine = { name: 'torch' } as never; // the warning comes before the engine is touched
      const cfg = config({ task: 'moco', encoder: 'vgg-small-bn', taskOptions: { queue }, batchSize: 32 });
      await runPretext(cfg, { runDir: join(tmp, `moco-${queue}`), engine, onEvent: (e) => e.type === 'warning' && seen.push(e.message) }).catch(() => {});
      return seen;
    };
    expect(await warnings(1024)).toEqual([expect.stringMatching(/^moco's queue of 1024 keys is not smaller than the train split \(57 images\): .*Set queue below 57 \(--set queue=N/)]);
    expect(await warnings(48)).toEqual([]);
  });
});
