import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSource } from '@cxr-ssl/data';
import { encoderSpec, readSafetensors, type Tensor, torchModel } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { type EmbeddingStats, embeddingStats, openRunData, PretextConfig, runMethod } from '@cxr-ssl/train';

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
 * `n` rows spread over each list (a split sorted by class: every class in), the lists sharing them
 * equally as far as each has rows: a pool's sets, one set as before.
 */
export function spreadPick(lists: readonly (readonly number[])[], n: number): number[] {
  const take = lists.map(() => 0);
  let left = Math.min(n, lists.reduce((a, l) => a + l.length, 0));
  while (left > 0) {
    for (const [k, l] of lists.entries()) {
      if (left > 0 && take[k] < l.length) {
        take[k]++;
        left--;
      }
    }
  }
  return lists.flatMap((l, k) => Array.from({ length: take[k] }, (_, i) => l[Math.floor((i * l.length) / take[k])]));
}

/**
 * Has a projector-head run (SimCLR, MoCo, BYOL, DINO) collapsed? Its latest checkpoint (or `step`) on
 * `images` held-out X-rays spread over the run's test split (a pool's: over each set's test split, in equal
 * shares; its `cache.name` names no set) (whole images, BatchNorm in eval mode).
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
  const data = openRunData(cfg.cache); // its set, or each set of a pool (whose cache.name, `a+b`, is none)
  const images = openSource(data.source);
  const dir = mkdtempSync(join(tmpdir(), 'collapse-'));
  try {
    const pick = spreadPick(data.sets.map((s) => s.test), opts.images ?? 128);
    const n = pick.length;
    writeFileSync(join(dir, 'x.u8'), Buffer.concat(pick.map((i) => images.get(i).pixels)));
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
    images.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
