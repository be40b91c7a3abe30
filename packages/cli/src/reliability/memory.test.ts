import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir } from '@cxr-ssl/data/testing';
import { encoderSpec } from '@cxr-ssl/models';
import { TFJS_WASM_HEAP_LIMIT, activationFloats, tfjsMicroBatch, tfjsStepBytes } from '@cxr-ssl/train';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * Memory and disk are known before work starts: prepare refuses sizes it cannot hold, pretext on
 * tfjs-wasm trains a batch too large for the wasm heap in micro-batches (or refuses, naming a size
 * that fits), and an image too small to be an X-ray is named and skipped.
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
  it('a size where not even one sample fits is refused up front, naming one that fits', () => {
    const r = runCli(tmp, ['pretext', '--method', 'simclr', '--size', '1024', '--engine', 'tfjs', '--cache-dir', 'cache', '--runs-dir', 'runs']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/one sample of simclr at 1024 px on vgg-small-bn needs about [\d.]+ GiB on tfjs-wasm, more than its heap holds .*use --size \d+ or smaller/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  }, 240_000);
});
