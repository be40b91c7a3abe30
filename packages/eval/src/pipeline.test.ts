import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreRow } from './evaluate.ts';
import { extractFeatures } from './extract.ts';
import { cachedFeatures } from './feature-cache.ts';
import { PROTOCOLS } from './protocols/index.ts';
import { openEncoderSession } from './session.ts';
import { testEncoder } from './testing/encoder.ts';
import { frozenRun } from './testing/frozen-run.ts';
import { loadFixture, splitIndices } from '@cxr-ssl/data/testing';

describe('encoder.onnx -> cached features -> linear evaluation, on real fixture X-rays (32 px)', () => {
  it('random-init vgg-small features separate NORMAL from PNEUMONIA on the held-out split, and reruns reuse the cache', async () => {
    const fx = await loadFixture(32);
    const { onnx } = testEncoder('vgg-small', 1);
    const { session } = await openEncoderSession(onnx, { provider: 'cpu' });
    const runDir = mkdtempSync(join(tmpdir(), 'eval-run-'));
    const run = async () => {
      const split = async (s: 'train' | 'test') => {
        const indices = splitIndices(fx, s);
        const f = await cachedFeatures({
          runDir,
          key: `${s}-32`,
          onnx,
          indices,
          dataHash: 'kermany-mini',
          compute: () => extractFeatures({ session, images: fx, indices }),
        });
        return { ...f, labels: indices.map((i) => fx.labels[i]) };
      };
      const train = await split('train');
      const test = await split('test');
      const { probs } = await PROTOCOLS.linear.run(frozenRun({ dim: train.dim, train, test }, PROTOCOLS.linear.options.parse({})));
      const row = scoreRow(test.labels, probs, { n: 200, seed: 0 });
      return { row, reused: [train.reused, test.reused] };
    };
    const first = await run();
    expect(first.reused).toEqual([false, false]);
    expect(first.row.accuracy).toBeGreaterThan(first.row.majority_accuracy + 0.15);
    expect(first.row.auc).toBeGreaterThan(0.8);
    const second = await run();
    expect(second.reused).toEqual([true, true]);
    expect(second.row).toEqual(first.row);
  });
});
