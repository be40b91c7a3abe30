import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import { encoderSpec, readSafetensors, type Tensor, torchModel } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { type EmbeddingStats, embeddingStats, PretextConfig, runMethod } from '@cxr-ssl/train';

/**
 * One output's statistics over the held-out images: the collapse measure of every held-out pass
 * (train's embeddingStats: spread, effective rank, mean pairwise cosine), and the sd of each output over
 * the images and of each image's outputs (small against a softmax temperature: a flat distribution).
 */
export interface OutputStats extends EmbeddingStats {
  /** mean over outputs of their sd over the images */
  sdImages: number;
  /** mean over images of the sd of their outputs */
  sdOutputs: number;
}
export interface CollapseReport {
  step: string;
  images: number;
  encoder: OutputStats;
  /** each part of the head's output in order: each emitted value, then the last layer's (BYOL: projection, prediction; DINO: prototype cosines) */
  head: OutputStats[];
  /** the table, one line per output */
  text: string;
}

/** The columns [from, from + width) of a row-major [rows, all] matrix, with their statistics. */
function outputStats(t: Tensor, from: number, width: number): OutputStats {
  const [rows, all] = t.shape;
  const x = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) x[r * width + j] = t.data[r * all + from + j];
  const sd = (values: number[]) => {
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / Math.max(1, values.length - 1));
  };
  const column = (j: number) => Array.from({ length: rows }, (_, r) => x[r * width + j]);
  const row = (r: number) => Array.from(x.subarray(r * width, (r + 1) * width));
  const mean = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0) / n;
  return { ...embeddingStats(x, rows, width), sdImages: mean(width, (j) => sd(column(j))), sdOutputs: mean(rows, (r) => sd(row(r))) };
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
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...torchModel(encoder, head), size: cfg.cache.size }));
    const r = spawnSync(python.path, ['-m', 'cxr_torch.collapse', dir], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR } });
    if (r.status !== 0) throw new Error(`cxr_torch.collapse failed (exit ${r.status}): ${r.stderr.trim().slice(-800)}`);
    const { parts } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { parts: number[] };
    const out = readSafetensors(join(dir, 'out.safetensors')).weights;
    const features = out.get('encoder')!;
    const headStats = parts.map((w, i) => outputStats(out.get('head')!, parts.slice(0, i).reduce((a, b) => a + b, 0), w));
    const encoderStats = outputStats(features, 0, features.shape[1]);
    const line = (name: string, o: OutputStats) =>
      `  ${name.padEnd(12)} dim ${String(o.dim).padStart(4)}  spread ${o.spread.toFixed(4)}  mean pairwise cosine ${o.cosine.toFixed(4)}  effective rank ${o.rank.toFixed(2).padStart(6)}  sd over images ${o.sdImages.toPrecision(4)}  sd over outputs ${o.sdOutputs.toPrecision(4)}`;
    const text = [`${cfg.task} ${step}: ${n} held-out X-rays`, line('encoder', encoderStats), ...headStats.map((o, i) => line(`head part ${i}`, o))].join('\n');
    return { step, images: n, encoder: encoderStats, head: headStats, text };
  } finally {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
