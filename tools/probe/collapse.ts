/**
 * Has a projector-head run (SimCLR, MoCo, BYOL, DINO) collapsed? A loss near 0 with held-out top-1 at
 * chance is the sign; this measures it on held-out X-rays (the run's test split, whole images, no
 * augmentation, BatchNorm in eval mode): per output, the encoder features', the projections' and (BYOL)
 * the predictions' mean pairwise cosine and effective rank (exp of the entropy of the normalised
 * singular values of the centred rows; a collapsed output has cosine ~1 and rank ~1), and the sd of each
 * output over the images and of each image's outputs (logits that vary less than a softmax temperature
 * give a uniform distribution: DINO's other collapse).
 *   npx tsx tools/probe/collapse.ts --run <run folder> [--images 128] [--step <checkpoint step>]
 * (the weights of the latest checkpoint, or of --step; the torch engine's Python: $CXR_SSL_PYTHON or
 * the usual search)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openCache, repoRoot } from '@cxr-ssl/data';
import { encoderSpec } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { PretextConfig, runMethod } from '@cxr-ssl/train';

const { values: a } = parseArgs({ options: { run: { type: 'string' }, images: { type: 'string', default: '128' }, step: { type: 'string' } } });
if (!a.run) {
  console.error('usage: collapse.ts --run <pretext run folder> [--images 128] [--step <checkpoint step>]');
  process.exit(2);
}
const cfg = PretextConfig.parse(JSON.parse(readFileSync(join(a.run, 'config.json'), 'utf8')));
const encoder = encoderSpec(cfg.encoder);
const head = runMethod(cfg, a.run).head(encoder);
const steps = readdirSync(join(a.run, 'checkpoints')).filter((d) => d.startsWith('step-')).sort();
const step = a.step ? `step-${a.step.padStart(8, '0')}` : steps[steps.length - 1];
if (!steps.includes(step)) {
  console.error(`${a.run}: no checkpoint ${step} (have ${steps.join(', ') || 'none'})`);
  process.exit(2);
}
const cache = openCache(cfg.cache.dir, cfg.cache.name, cfg.cache.size);
const dir = mkdtempSync(join(tmpdir(), 'collapse-'));
try {
  const test = cache.indices('test');
  // spread over the split (it is sorted by class): both classes are in
  const pick = Array.from({ length: Math.min(Number(a.images), test.length) }, (_, i) => test[Math.floor((i * test.length) / Math.min(Number(a.images), test.length))]);
  writeFileSync(join(dir, 'x.u8'), Buffer.concat(pick.map((i) => cache.image(i))));
  copyFileSync(join(a.run, 'checkpoints', step, 'weights.safetensors'), join(dir, 'weights.safetensors'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ encoder, head, size: cfg.cache.size, label: `${cfg.task} ${step}` }));
  const python = findTorchPython();
  if ('error' in python) throw new Error(python.error);
  const r = spawnSync(python.path, [join(repoRoot(), 'tools/probe/collapse.py'), dir], { stdio: 'inherit', env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR } });
  process.exitCode = r.status ?? 1;
} finally {
  cache.close();
  rmSync(dir, { recursive: true, force: true });
}
