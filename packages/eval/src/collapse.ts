import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import { encoderSpec, torchModel } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { PretextConfig, runMethod } from '@cxr-ssl/train';

/** One output's statistics over the held-out images (cxr_torch/collapse.py). */
export interface OutputStats {
  dim: number;
  /** mean cosine between the outputs of two different images (~1: every image gives the same output) */
  cosine: number;
  /** effective rank of the centred outputs (~1: collapsed to a line) */
  rank: number;
  /** mean over outputs of their sd over the images */
  sdImages: number;
  /** mean over images of the sd of their outputs (small against a softmax temperature: a flat distribution) */
  sdOutputs: number;
}
export interface CollapseReport {
  step: string;
  images: number;
  encoder: OutputStats;
  /** each part of the head's output in order: each emitted value, then the last layer's (BYOL: projection, prediction; DINO: prototype cosines) */
  head: OutputStats[];
  /** the table cxr_torch.collapse prints */
  text: string;
}

/**
 * Has a projector-head run (SimCLR, MoCo, BYOL, DINO) collapsed? Its latest checkpoint (or `step`) on
 * `images` held-out X-rays spread over the run's test split (whole images, BatchNorm in eval mode).
 * Needs the torch engine's Python.
 */
export function measureCollapse(runDir: string, opts: { images?: number; step?: number } = {}): CollapseReport {
  const cfg = PretextConfig.parse(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')));
  const encoder = encoderSpec(cfg.encoder);
  const head = runMethod(cfg, runDir).head(encoder);
  const steps = readdirSync(join(runDir, 'checkpoints')).filter((d) => d.startsWith('step-')).sort();
  const step = opts.step !== undefined ? `step-${String(opts.step).padStart(8, '0')}` : steps[steps.length - 1];
  if (!steps.includes(step)) throw new Error(`${runDir}: no checkpoint ${step} (have ${steps.join(', ') || 'none'})`);
  const python = findTorchPython();
  if ('error' in python) throw new Error(python.error);
  const cache = openCache(cfg.cache.dir, cfg.cache.name, cfg.cache.size);
  const dir = mkdtempSync(join(tmpdir(), 'collapse-'));
  try {
    const test = cache.indices('test');
    const n = Math.min(opts.images ?? 128, test.length);
    // spread over the split (sorted by class), so both classes are in
    const pick = Array.from({ length: n }, (_, i) => test[Math.floor((i * test.length) / n)]);
    writeFileSync(join(dir, 'x.u8'), Buffer.concat(pick.map((i) => cache.image(i))));
    copyFileSync(join(runDir, 'checkpoints', step, 'weights.safetensors'), join(dir, 'weights.safetensors'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...torchModel(encoder, head), size: cfg.cache.size, label: `${cfg.task} ${step}` }));
    const r = spawnSync(python.path, ['-m', 'cxr_torch.collapse', dir], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR } });
    if (r.status !== 0) throw new Error(`cxr_torch.collapse failed (exit ${r.status}): ${r.stderr.trim().slice(-800)}`);
    const lines = r.stdout.trim().split('\n');
    return { step, images: n, ...JSON.parse(lines[lines.length - 1]), text: lines.slice(0, -1).join('\n') };
  } finally {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
