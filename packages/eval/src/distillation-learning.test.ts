import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { encoderSpec, initWeights, readSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { ENGINES, heldOutPretext, PretextConfig, runMethod, runPretext } from '@cxr-ssl/train';
import { torchTests } from '@cxr-ssl/torch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollapseReport, measureCollapse } from './collapse.ts';
import { knnAucOnCache } from './fixture-knn.test-helper.ts';
import { auc } from './metrics.ts';
import { pairedBootstrap } from './paired.ts';

// BYOL and DINO (no negatives: a moving-average target network) at their default options and
// PretextConfig's training defaults, only the epochs cut down, on the fixture's real X-rays (torch,
// CPU). Held-out = the test split, never trained on. Both: the head's outputs have not collapsed (on the
// held-out images they differ between images: mean pairwise cosine below 0.9, where the collapsed heads
// of docs/METHODS.md gave 0.99-1.00). BYOL: its own loss falls below the untrained network's (same
// images, same draws) but not to ~0, where a collapsed projector takes it. DINO: its held-out loss is no yardstick (the teacher it is
// measured against moves too; at these defaults and 32 px it ends at ln 256: measured 5.547, see docs/DEMO.md
// for the demo's sharper teacher); its held-out top-1 (each image's second crop against every image's
// teacher distribution of the first, chance 1/32: measured 0.063 vs 0.047 untrained) stays above half
// chance and well below certainty; its kNN against random init is reported, not asserted: at 60 steps on
// the fixture it does not beat random init (docs/METHODS.md).
const torch = torchTests('BYOL and DINO learn at their default settings (eval/src/distillation-learning.test.ts)');
const SIZE = 32;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-distill-'));
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [SIZE], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 1 });
});
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

const knnAuc = (onnx: Uint8Array) => knnAucOnCache(join(tmp, 'cache'), 'fx', SIZE, onnx);

type HeldOut = Awaited<ReturnType<typeof heldOutPretext>>;
/** What each method's run must show on held-out images, beside the encoder moving. */
const CHECKS: Record<string, { epochs: number; check(o: { trained: HeldOut; untrained: HeldOut; collapse: CollapseReport }): void }> = {
  byol: {
    epochs: 60,
    check: ({ trained, untrained, collapse }) => {
      expect(trained.loss).toBeLessThan(untrained.loss - 0.05); // measured 0.856 vs 1.921
      // and not by collapse: a projector that maps every image to one point drives the loss to ~0 (the
      // Kermany grid's first BYOL, before the head had BatchNorm: 0.0004 with top-1 at chance, 1/32)
      expect(trained.loss).toBeGreaterThan(0.05);
      // kNN is reported, not asserted: 0.957 in one run, 0.875 in a clean-clone CI run (random init 0.883; 32 test images)
      expect(collapse.head[0].cosine).toBeLessThan(0.9); // the projection
    },
  },
  dino: {
    epochs: 60,
    check: ({ trained, collapse }) => {
      expect(collapse.head[0].cosine).toBeLessThan(0.9); // the prototype cosines
      expect(trained.accuracy).toBeLessThan(0.5);
      expect(trained.accuracy).toBeGreaterThan(1 / 64);
    },
  },
};

describe.skipIf(torch.skip)('BYOL and DINO learn at their default settings (torch engine, CPU, 32 px)', { timeout: 900_000 }, () => {
  for (const [method, { epochs, check }] of Object.entries(CHECKS)) {
    it(`${method}: does not collapse, and learns what the comment above says it does`, async () => {
      const cfg = PretextConfig.parse({ task: method, cache: { dir: join(tmp, 'cache'), name: 'fx', size: SIZE }, epochs, workers: 0, logEvery: 1 });
      const runDir = join(tmp, method);
      const cache = openCache(cfg.cache.dir, 'fx', SIZE);
      const test = cache.indices('test');
      cache.close();
      // 16 draws of each of the 32 test images: DINO's top-1 counts a few hits, and 128 samples left it at
      // the bar by chance (2/128 with issue 28's views at seed 0; seeds 1-3 gave 7, 7, 3, the earlier views 6, 13, 4)
      const heldOutOf = async (engine: Awaited<ReturnType<typeof ENGINES.torch>>) =>
        heldOutPretext(engine, { cache: cfg.cache, task: method, samplerOptions: runMethod(cfg, runDir).heldOutSamplerOptions, indices: test, seed: 1000, batchSize: 32, draws: 16 });
      const trainedEngine = await ENGINES.torch({ torch: { device: 'cpu' } });
      let trained: Awaited<ReturnType<typeof heldOutOf>>;
      try {
        await runPretext(cfg, { runDir, engine: trainedEngine });
        trained = await heldOutOf(trainedEngine);
      } finally {
        await trainedEngine.close();
      }
      const run = runMethod(cfg, runDir);
      const spec = encoderSpec(cfg.encoder);
      const head = run.head(spec);
      const fresh = await ENGINES.torch({ torch: { device: 'cpu' } });
      let untrained: Awaited<ReturnType<typeof heldOutOf>>;
      try {
        await fresh.init({ encoder: spec, head, weights: initWeights(spec, head, cfg.seed), optimizer: cfg.optimizer, loss: run.loss, seed: cfg.seed });
        untrained = await heldOutOf(fresh);
      } finally {
        await fresh.close();
      }
      const after = await knnAuc(new Uint8Array(readFileSync(join(runDir, 'encoder.onnx'))));
      const random = await knnAuc(encoderOnnx(spec, initWeights(spec, undefined, cfg.seed)));
      const diff = pairedBootstrap(auc, after.labels, [after.scores], [random.scores], { n: 500, seed: 0 });
      const collapse = measureCollapse(runDir, { images: test.length });
      console.log(collapse.text);
      console.log(
        `${method} ${SIZE} px, ${epochs} steps: held-out ${method} loss ${trained.loss.toFixed(3)} vs ${untrained.loss.toFixed(3)} untrained, top-1 ${trained.accuracy.toFixed(3)} vs ${untrained.accuracy.toFixed(3)} on ${trained.samples} samples; ` +
          `kNN AUC ${after.auc.toFixed(3)} vs random init ${random.auc.toFixed(3)}: paired dAUC ${diff.estimate.toFixed(3)} [${diff.ci[0].toFixed(3)}, ${diff.ci[1].toFixed(3)}] on ${after.labels.length} test images`,
      );
      check({ trained, untrained, collapse });
      // the encoder moved (not only the head)
      const w0 = initWeights(spec, undefined, cfg.seed).get('features.0.weight')!.data;
      const w1 = readSafetensors(join(runDir, 'encoder.safetensors')).weights.get('features.0.weight')!.data;
      expect(w1.reduce((m, v, i) => Math.max(m, Math.abs(v - w0[i])), 0)).toBeGreaterThan(1e-3);
    });
  }
});
