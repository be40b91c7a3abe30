/**
 * Why does a run not learn? Replays the start of a pretext run outside the engine and measures what
 * the engine does not report: per step the loss, the gradient norms of encoder and head, the encoder
 * features (mean, share exactly 0, share at the layer's ceiling: dead or saturated ReLU/ReLU6 units)
 * and how far the encoder's weights have moved. Same task, options, encoder, starting weights, batches
 * (epoch 0's, drawn by the run's sampler and seed), optimiser and lr schedule as the run's config.json.
 *   npx tsx tools/probe/train-health.ts --run <run folder> [--steps 60] [--lr 0.01] [--every 5]
 * (--lr replaces the run's peak lr, to see whether a smaller one keeps the units alive; the torch
 * engine's Python: $CXR_SSL_PYTHON or the usual search)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { batchViews, createBatchStream, openCache, repoRoot } from '@cxr-ssl/data';
import { encoderSpec, torchModel, writeSafetensors } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { PretextConfig, lrAt, runMethod, startWeights } from '@cxr-ssl/train';

const { values: a } = parseArgs({ options: { run: { type: 'string' }, steps: { type: 'string', default: '60' }, lr: { type: 'string' }, every: { type: 'string', default: '5' } } });
if (!a.run) {
  console.error('usage: train-health.ts --run <pretext run folder> [--steps 60] [--lr <peak lr>] [--every 5]');
  process.exit(2);
}
const cfg = PretextConfig.parse(JSON.parse(readFileSync(join(a.run, 'config.json'), 'utf8')));
const method = runMethod(cfg, a.run);
const encoder = encoderSpec(cfg.encoder);
const head = method.head(encoder);
const cache = openCache(cfg.cache.dir, cfg.cache.name, cfg.cache.size);
const train = cache.indices('train');
const steps = Math.min(Number(a.steps), Math.floor(train.length / cfg.batchSize));
const stepsPerEpoch = Math.floor(train.length / cfg.batchSize);
const total = cfg.epochs * stepsPerEpoch;
const peak = a.lr ? Number(a.lr) : cfg.optimizer.lr;

const dir = mkdtempSync(join(tmpdir(), 'train-health-'));
try {
  const xs: Uint8Array[] = [];
  const ys: Int32Array[] = [];
  let shape: number[] = [];
  for await (const b of createBatchStream({ cache: cfg.cache, task: cfg.task, samplerOptions: method.samplerOptions, indices: train, batchSize: cfg.batchSize, seed: cfg.seed, epoch: 0, batches: steps })) {
    xs.push(batchViews(b));
    if (b.y) ys.push(b.y);
    shape = b.shape;
  }
  writeFileSync(join(dir, 'x.u8'), Buffer.concat(xs));
  if (ys.length) writeFileSync(join(dir, 'y.i32'), Buffer.concat(ys.map((y) => Buffer.from(y.buffer, y.byteOffset, y.byteLength))));
  writeSafetensors(join(dir, 'weights.safetensors'), startWeights(cfg, encoder, head));
  // each step's scalars as the loop computes them: the lr, and the method's own (BYOL's tau, ...)
  const scalars = Array.from({ length: steps }, (_, s) => method.scalarsAt(s, total, lrAt(peak, cfg.schedule, s, stepsPerEpoch, total)));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...torchModel(encoder, head), loss: method.loss, shape, scalars, optimizer: { ...cfg.optimizer, lr: peak }, seed: cfg.seed, every: Number(a.every) }));
  const python = findTorchPython();
  if ('error' in python) throw new Error(python.error);
  const r = spawnSync(python.path, [join(repoRoot(), 'tools/probe/train_health.py'), dir], { stdio: 'inherit', env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR } });
  process.exitCode = r.status ?? 1;
} finally {
  cache.close();
  rmSync(dir, { recursive: true, force: true });
}
