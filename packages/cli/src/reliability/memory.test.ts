import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBatch } from '@cxr-ssl/data';
import { fixtureDir, fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, spatialSizes } from '@cxr-ssl/models';
import { TFJS_WASM_HEAP_LIMIT, activationFloats, parseMethod, tfjsMicroBatch, tfjsStepBytes, torchBatchThatFits, torchRunBytes, torchStepShape } from '@cxr-ssl/train';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * Memory and disk are known before work starts: prepare refuses sizes it cannot hold, pretext on
 * tfjs-wasm trains a batch too large for the wasm heap in micro-batches (or refuses, naming a size
 * that fits), pretext on torch refuses a step above the host's memory (naming the batch that fits),
 * and an image too small to be an X-ray is named and skipped.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prepare checks pixels x images before decoding', () => {
  it('--sizes 100000 is refused up front (exit 2), naming the override', () => {
    const r = runCli(tmp, ['prepare', '--sizes', '100000', '--cache-dir', 'big']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sizes: 100000 px is above 1024 px .*pass --allow-large-sizes/);
    expect(existsSync(join(tmp, 'big'))).toBe(false);
  });

  it('with the override, free disk is still checked before any image is decoded', () => {
    const r = runCli(tmp, ['prepare', '--sizes', '100000', '--allow-large-sizes', '--cache-dir', 'big', '--workers', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/a cache of 96 images at 100000 px needs [\d.]+ GiB in .*big, and [\d.]+ GiB is free/);
    expect(existsSync(join(tmp, 'big', 'kermany-mini-100000.u8'))).toBe(false);
  });

  it('pretext --size 100000 on the bundled fixture is a usage error, not a hang', () => {
    const r = runCli(tmp, ['pretext', '--method', 'rotation', '--size', '100000', '--engine', 'tfjs', '--cache-dir', 'big']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--size 100000: the bundled fixture is prepared on first use at up to 1024 px/);
  });
});

describe('a 1 x 1 image', () => {
  it('is named as too small to be an X-ray and skipped, beside real fixture X-rays', async () => {
    const src = join(tmp, 'tiny-src');
    cpSync(fixtureDir(), src, { recursive: true });
    mkdirSync(join(src, 'train', 'NORMAL'), { recursive: true });
    await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(join(src, 'train', 'NORMAL', 'dot.png'));
    const r = runCli(tmp, ['prepare', '--source', src, '--name', 'tiny', '--sizes', '32', '--cache-dir', 'cache', '--workers', '0', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/1 images could not be read: skipped, listed in .*tiny-32\.bad\.json/);
    const bad = readFileSync(join(tmp, 'cache', 'tiny-32.bad.json'), 'utf8');
    expect(bad).toMatch(/dot\.png/);
    expect(bad).toMatch(/1 x 1 px, too small to be an X-ray/);
    expect(JSON.parse(r.out).total).toBe(96);
  });
});

describe('the tfjs-wasm step is sized before the run', () => {
  const bn = encoderSpec('vgg-small-bn');
  it('the default rotation run at 128 px (batch 32) does not fit whole: it trains in passes that do', () => {
    const step = { encoder: bn, views: 1, patch: 128, batch: 32 };
    expect(tfjsStepBytes(step)).toBeGreaterThan(TFJS_WASM_HEAP_LIMIT); // what aborted with "Aborted()"
    const micro = tfjsMicroBatch(step)!;
    expect(32 % micro).toBe(0);
    expect(tfjsStepBytes({ ...step, batch: micro })).toBeLessThanOrEqual(TFJS_WASM_HEAP_LIMIT);
    expect(tfjsMicroBatch({ ...step, patch: 64 })).toBe(32); // 64 px, which worked, still runs whole
  });
  it('activations grow with the square of the size', () => {
    expect(activationFloats(bn, 128) / activationFloats(bn, 64)).toBeCloseTo(4, 1);
  });
  it("densenet121 and resnet50: the channels counted into each op are the ones its conv or BatchNorm declares (a concat's are its inputs' together)", () => {
    for (const name of ['densenet121', 'resnet50', 'densenet121-torchvision', 'resnet50-torchvision']) {
      const spec = encoderSpec(name);
      const sides = spatialSizes(spec, 64);
      const channels = new Map<string, number>();
      // an ImageNet-input variant copies the grey X-ray to its first conv's 3 channels
      const first = spec.ops[0];
      let previous = first.op === 'conv' ? first.in : spec.channels;
      let total = 0;
      for (const op of spec.ops) {
        const input = 'inputs' in op ? op.inputs[0] : op.input;
        const into = input === undefined ? previous : channels.get(input)!;
        if (op.op === 'conv') expect(into, `${name} ${op.id}`).toBe(op.in);
        if (op.op === 'bn') expect(into, `${name} ${op.id}`).toBe(op.channels);
        const c = op.op === 'conv' ? op.out : op.op === 'concat' ? op.inputs.reduce((n, i) => n + channels.get(i)!, 0) : into;
        channels.set(op.id, c);
        previous = c;
        total += c * (op.op === 'gap' ? 1 : sides.get(op.id)!) ** 2;
      }
      expect(previous, name).toBe(spec.features);
      expect(activationFloats(spec, 64), name).toBe(total);
    }
  });
  it('a size where not even one sample fits is refused up front, naming one that fits', () => {
    const r = runCli(tmp, ['pretext', '--method', 'simclr', '--size', '1024', '--engine', 'tfjs', '--cache-dir', 'cache', '--runs-dir', 'runs']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/one sample of simclr at 1024 px on vgg-small-bn needs about [\d.]+ GiB on tfjs-wasm, more than its heap holds .*use --size \d+ or smaller/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  }, 240_000);
});

describe('the torch step is estimated before the run', () => {
  const vgg16 = encoderSpec('vgg16-bn');
  it('the batch that fits is the largest whose estimate is within the memory, shared by the processes', () => {
    const step = torchStepShape(vgg16, { trained: { views: 2, patch: 256 } }, 64);
    const available = 8 * 2 ** 30;
    for (const [world, sharing] of [[1, 1], [4, 4], [4, 1]]) {
      const fits = torchBatchThatFits(step, 'cpu', available, world, sharing)!;
      expect(fits % world).toBe(0);
      expect(torchRunBytes({ ...step, batch: fits }, 'cpu', world, sharing)).toBeLessThanOrEqual(available);
      expect(torchRunBytes({ ...step, batch: fits + world }, 'cpu', world, sharing)).toBeGreaterThan(available);
    }
    // activations are per sample and per view: twice the batch or the views is twice the activation bytes
    const base = torchRunBytes({ ...step, batch: 0 }, 'cpu');
    expect((torchRunBytes({ ...step, batch: 32 }, 'cpu') - base) * 2).toBeCloseTo(torchRunBytes(step, 'cpu') - base, -3);
  });

  it('counts the views the engine paints, not the one image per sample a planned batch carries (--render torch)', async () => {
    // the pipe then brings each sample's cache image and its views' plans; the step holds the painted
    // views (a multi-crop method's local crops too), as with TypeScript's painting
    const size = 64;
    const images = await fixtureImages(4, size);
    const run = parseMethod('dino', {});
    const planned = makeBatch({ get: (i: number) => images[i] }, run.method.sampler, run.samplerOptions, [0, 1, 2, 3], 7, false);
    expect(planned.planned?.images.length).toBe(4 * size * size);
    const encodes = run.encodes(size);
    const local = encodes.trained.local!;
    expect([4, encodes.trained.views, encodes.trained.patch, encodes.trained.patch]).toEqual(planned.shape);
    expect([4, local.views, local.patch, local.patch]).toEqual(planned.local);
    const bn = encoderSpec('vgg-small-bn');
    const step = torchStepShape(bn, encodes, 4);
    expect(step.trained).toBe(planned.shape[1] * activationFloats(bn, planned.shape[2]) + planned.local![1] * activationFloats(bn, planned.local![2]));
    expect(step.trained).toBeGreaterThan(2 * activationFloats(bn, size)); // more than the pipe's one image per sample
  });

  it('a step far above the host memory is refused up front (exit 2), naming the batch that fits, before any run folder', () => {
    // vgg16-bn, two views at 1024 px, 32 samples: hundreds of GiB by any count
    const r = runCli(tmp, ['pretext', '--method', 'simclr', '--encoder', 'vgg16-bn', '--size', '1024', '--batch-size', '32', '--engine', 'torch', '--device', 'cpu', '--cache-dir', 'cache', '--runs-dir', 'runs-torch']);
    expect(r.code, r.err).toBe(2);
    const m = r.err.match(/a step of 32 samples of simclr at 1024 px on vgg16-bn needs about ([\d.]+) GiB of host memory by cxr-ssl's estimate, and this machine has ([\d.]+) GiB available: the kernel would kill it part way\. (Use --batch-size (\d+) \(the largest that fits\)|Not even one sample per process fits)/);
    expect(m, r.err).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(Number(m![2]));
    if (m![4]) expect(Number(m![4])).toBeLessThan(32);
    expect(r.err).toContain('--ignore-memory-estimate');
    expect(existsSync(join(tmp, 'runs-torch'))).toBe(false);
  }, 240_000);
});
