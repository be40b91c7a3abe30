/**
 * Our torch engine path against a raw PyTorch CPU loop, per method, measured in the same run:
 *   ours: dataset cache -> the method's sampler (batch stream, as `pretext` runs it) -> pipe -> torch
 *         engine (tools/device/gpu-run.ts, --device cpu);
 *   raw:  cxr_torch.bench_raw: the same model, loss and batch shape, random uint8 batches already in
 *         memory, no sampler, no pipe.
 * Raw is measured with each of --threads (default: all cores, and all but one), printed per count, and
 * its best counts; ours runs with the engine's default threads (as `pretext` runs it; --ours-threads to
 * try others): ours/raw < 1 is what sampling and the pipe cost, and on few cores also the core that ours
 * leaves to sampling (raw on all cores but one is then its ceiling). Rounds alternate ours and raw per
 * method; the best round of each counts (a shared machine: the least disturbed).
 * --real-steps N adds a third: a real training run (runPretext at its defaults: held-out passes,
 * checkpoints, the run's own lr schedule) of N steps, its samples/s over the loop's wall time (steps,
 * held-out passes and checkpoints; not the engine's start or the export): real/ours is what the loop's
 * bookkeeping costs (issue 28).
 *
 *   npx tsx tools/bench/torch-cpu.ts [--methods rotation,simclr] [--size 64] [--encoder vgg-small-bn]
 *       [--batch 32] [--threads <cores>,<cores - 1>] [--ours-threads <n>] [--workers 0] [--seconds 10] [--warmup 3] [--rounds 1] [--python <path>]
 *       [--cache <dir>] [--data kermany-mini] [--real-steps 0] [--render auto]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encoderSpec, torchModel } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { createEngine, METHODS, parseMethod, RenderOption } from '@cxr-ssl/train';
import { realRunRate } from './real-run.ts';
import { z } from 'zod';
import { openPrepared } from '../../packages/cli/src/dataset.ts';

const onTorch = Object.keys(METHODS).filter((m) => METHODS[m].engines.includes('torch'));
const Args = z.object({
  methods: z.string().default(onTorch.join(',')),
  size: z.coerce.number().int().positive().default(64),
  encoder: z.string().default('vgg-small-bn'),
  batch: z.coerce.number().int().positive().default(32),
  /** torch threads of the raw loop, comma-separated: its best counts (on a loaded machine fewer threads can win) */
  threads: z.string().default([...new Set([availableParallelism(), Math.max(1, availableParallelism() - 1)])].join(',')),
  /** torch threads of ours; default: the engine's own default */
  oursThreads: z.coerce.number().int().positive().optional(),
  /** sampling threads of ours; default as `pretext` picks them (none below 4 cores) */
  workers: z.coerce.number().int().nonnegative().default(availableParallelism() >= 4 ? Math.min(8, availableParallelism() - 2) : 0),
  seconds: z.coerce.number().positive().default(10),
  warmup: z.coerce.number().nonnegative().default(3),
  rounds: z.coerce.number().int().positive().default(1),
  python: z.string().optional(),
  cache: z.string().default('cache'),
  /** a prepared data set in --cache (kermany-mini is prepared there when missing) */
  data: z.string().default('kermany-mini'),
  /** steps of the real training run per method and round (0: none) */
  realSteps: z.coerce.number().int().nonnegative().default(0),
  /** who paints ours' and the real run's views (train/src/render.ts: auto is typescript on the CPU) */
  render: RenderOption,
});
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(Args.shape).map((k) => [kebab(k), { type: 'string' as const }])) });
const a = Args.parse(Object.fromEntries(Object.keys(Args.shape).map((k) => [k, values[kebab(k)]])));
const python = findTorchPython(a.python);
if ('error' in python) throw new Error(python.error);
const { path: pythonPath, torchVersion } = python;
(await openPrepared({ cacheDir: a.cache, data: a.data, size: a.size, quiet: false })).close();

const tmp = mkdtempSync(join(tmpdir(), 'cxr-bench-'));
const env = { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR, CXR_SSL_PYTHON: pythonPath };
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { samplesPerSec: number };

function ours(method: string): number {
  const args = ['--import', 'tsx', resolve(import.meta.dirname, '../device/gpu-run.ts'), '--device', 'cpu', '--cache', resolve(a.cache), '--name', a.data];
  args.push('--size', `${a.size}`, '--task', method, '--encoder', a.encoder, '--batch', `${a.batch}`, '--workers', `${a.workers}`);
  args.push('--warmup-seconds', `${a.warmup}`, '--seconds', `${a.seconds}`, '--render', a.render, ...(a.oursThreads ? ['--threads', `${a.oursThreads}`] : []));
  return lastJson(execFileSync(process.execPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).samplesPerSec;
}

const threadCounts = a.threads.split(',').map(Number);

/** A real run of --real-steps steps (real-run.ts): samples/s over its loop's wall time. */
async function realRun(method: string): Promise<number> {
  const { engine } = await createEngine('torch', { torch: { python: pythonPath, device: 'cpu', threads: a.oursThreads } });
  try {
    const cache = { dir: resolve(a.cache), name: a.data, size: a.size };
    return (await realRunRate({ cache, task: method, encoder: a.encoder, batch: a.batch, steps: a.realSteps, workers: a.workers, render: a.render, engine })).samplesPerSec;
  } finally {
    await engine.close();
  }
}

function rawWith(method: string, threads: number): number {
  const run = parseMethod(method, {});
  const encoder = encoderSpec(a.encoder);
  const spec = join(tmp, `${method}.json`);
  writeFileSync(spec, JSON.stringify({ ...torchModel(encoder, run.head(encoder)), loss: run.loss, scalars: run.scalarsAt(0, 1, 0.001) }));
  const { views, patch } = run.method.sampler.shape(a.size, run.samplerOptions);
  const args = ['-m', 'cxr_torch.bench_raw', '--spec', spec, '--shape', `${a.batch},${views},${patch},${patch}`, '--device', 'cpu'];
  args.push('--threads', `${threads}`, '--warmup-seconds', `${a.warmup}`, '--seconds', `${a.seconds}`);
  return lastJson(execFileSync(pythonPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })).samplesPerSec;
}

const rows: string[] = [];
try {
  for (const method of a.methods.split(',')) {
    let best = { ours: 0, real: 0, raw: threadCounts.map(() => 0) };
    for (let r = 0; r < a.rounds; r++) {
      best = { ours: Math.max(best.ours, ours(method)), real: a.realSteps > 0 ? Math.max(best.real, await realRun(method)) : 0, raw: threadCounts.map((t, i) => Math.max(best.raw[i], rawWith(method, t))) };
    }
    // raw by thread count too: on few cores ours gives one core to sampling, so raw on one thread fewer is its ceiling
    const rawBest = Math.max(...best.raw);
    const real = a.realSteps > 0 ? ` ${best.real.toFixed(1)} | ${(best.real / best.ours).toFixed(2)} |` : '';
    const row = `| ${method} | ${best.ours.toFixed(1)} |${real} ${best.raw.map((r) => r.toFixed(1)).join(' | ')} | ${(best.ours / rawBest).toFixed(2)} |`;
    process.stderr.write(`${row}\n`);
    rows.push(row);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`${a.encoder}, ${a.size} px, batch ${a.batch}, torch threads: raw best of ${a.threads}, ours ${a.oursThreads ?? 'the engine default'}; ${a.workers} sampling workers, --render ${a.render}, torch ${torchVersion}, best of ${a.rounds}`);
const realCols = a.realSteps > 0 ? [`real run (${a.realSteps} steps) samples/s`, 'real/ours'] : [];
console.log(`${a.data}; ${a.realSteps > 0 ? `real runs: runPretext at its defaults, ${a.realSteps} steps` : 'no real runs (--real-steps)'}`);
console.log(`| method | ours samples/s | ${[...realCols, ...threadCounts.map((t) => `raw, ${t} thread${t === 1 ? '' : 's'}`)].join(' | ')} | ours/raw (best) |\n|---|---|${[...realCols, ...threadCounts].map(() => '---|').join('')}---|`);
console.log(rows.join('\n'));
