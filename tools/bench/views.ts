/**
 * The two renderers of view plans on this machine's CPU, on the same plans, in one run:
 *   - views/s of a two-view method's views (SimCLR's, the first such in the registry) and of a multi-crop
 *     method's (DINO's: 2 global + 4 local crops) at --size px,
 *     planned once from real X-rays (the fixture), painted by the TypeScript renderer on 1 thread
 *     (data/src/augment/render.ts, what the sampling threads run) and by the torch renderer on the CPU
 *     (cxr_torch/render, --threads, default 1 and all cores); torch / TypeScript printed per block;
 *   - planning alone (the draws, no pixel): what the CPU still does per sample when the engine paints;
 *   - the parity figures of these very plans (largest difference, share of pixels that differ);
 *   - with --train, training samples/s on CPU with each renderer (tools/device/gpu-run.ts --device cpu
 *     --render typescript | torch; same method, encoder, batch, rounds alternating; default methods: the
 *     two-view one and the first labelled whole-image one, rotation): what `--render auto` picks on a CPU
 *     engine (train/src/render.ts CPU_RENDERER) is the faster one.
 *
 *   npx tsx tools/bench/views.ts [--size 128] [--batch 32] [--seconds 5] [--threads 1,<cores>] [--python <path>]
 *       [--train] [--train-methods <m>,<m>] [--train-size 64] [--train-batch 32] [--encoder vgg-small-bn] [--rounds 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Batch, batchViews, getSampler, makeBatch, SAMPLERS } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { batchBlocks, renderWithTorch, writeRenderFiles } from '@cxr-ssl/torch/testing';
import { z } from 'zod';
import { openPrepared } from '../../packages/cli/src/dataset.ts';

const Args = z.object({
  size: z.coerce.number().int().min(16).default(128),
  batch: z.coerce.number().int().positive().default(32),
  seconds: z.coerce.number().positive().default(5),
  threads: z.string().default([...new Set([1, availableParallelism()])].join(',')),
  python: z.string().optional(),
  train: z.preprocess((v) => v !== undefined, z.boolean()),
  trainMethods: z.string().optional(),
  trainSize: z.coerce.number().int().min(16).default(64),
  trainBatch: z.coerce.number().int().positive().default(32),
  encoder: z.string().default('vgg-small-bn'),
  rounds: z.coerce.number().int().positive().default(2),
  cache: z.string().default('cache'),
});
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(Args.shape).map((k) => [kebab(k), { type: k === 'train' ? ('boolean' as const) : ('string' as const) }])) });
const a = Args.parse(Object.fromEntries(Object.keys(Args.shape).map((k) => [k, values[kebab(k)]])));
const python = findTorchPython(a.python);
if ('error' in python) throw new Error(python.error);

const images = await fixtureImages(a.batch, a.size);
const source = { get: (i: number) => images[i % images.length] };
const rows = Array.from({ length: a.batch }, (_, i) => i);
// the methods by what their samples are, from the registry (no method is named outside its own files)
const names = Object.keys(SAMPLERS);
const shapeOf = (m: string) => getSampler(m).shape(a.size, getSampler(m).options.parse({}));
const twoViews = names.find((m) => !getSampler(m).classes && shapeOf(m).views === 2 && !shapeOf(m).local)!;
const multiCrop = names.find((m) => shapeOf(m).local)!;
const wholeLabelled = names.find((m) => getSampler(m).classes && shapeOf(m).patch === a.size)!;
const local = shapeOf(multiCrop).local!;
const cases: Record<string, { method: string; options: object }> = {
  [`${twoViews} (2 views)`]: { method: twoViews, options: {} },
  [`${multiCrop} (2 + ${local.views} crops)`]: { method: multiCrop, options: {} },
};

/** Calls f until `seconds` have passed; -> calls per second. */
function rate(f: () => void, seconds: number): number {
  f(); // warm the JIT
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    f();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const tmp = mkdtempSync(join(tmpdir(), 'cxr-bench-views-'));
const load0 = loadavg()[0];
const table: string[] = [];
const parity: string[] = [];
try {
  for (const [label, c] of Object.entries(cases)) {
    const task = getSampler(c.method);
    const opts = task.options.parse(c.options);
    const planned: Batch = makeBatch(source, task, opts, rows, 5, false);
    const views = batchBlocks(planned).reduce((n, b) => n + b.count * b.views, 0);
    const planPerSec = rate(() => makeBatch(source, task, opts, rows, 5, false), a.seconds / 2) * a.batch;
    const tsViews = rate(() => batchViews(planned), a.seconds) * views;
    const dir = join(tmp, c.method);
    mkdirSync(dir);
    writeRenderFiles(dir, batchBlocks(planned));
    const painted = batchViews(planned);
    const torch = a.threads.split(',').map((t) => {
      const r = renderWithTorch(python.path, dir, { threads: Number(t), seconds: a.seconds });
      const perSec = Object.values(r.viewsPerSec!);
      // blocks are timed one after the other: the combined rate is views over the summed times
      const blocks = batchBlocks(planned);
      const seconds = blocks.reduce((s, b, i) => s + (b.count * b.views) / perSec[i], 0);
      return { threads: r.threads, viewsPerSec: views / seconds, x: Object.values(r.views) };
    });
    const x = new Uint8Array(painted.length);
    let at = 0;
    for (const part of torch[0].x) {
      x.set(part, at);
      at += part.length;
    }
    let max = 0;
    let differ = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - painted[i]);
      if (d) differ++;
      max = Math.max(max, d);
    }
    parity.push(`| ${label} | ${painted.length.toLocaleString('en-US')} | ${max} | ${(differ / painted.length).toExponential(1)} |`);
    for (const t of torch) {
      table.push(`| ${label} | ${a.size} | ${Math.round(planPerSec).toLocaleString('en-US')} | ${Math.round(tsViews).toLocaleString('en-US')} | ${t.threads} | ${Math.round(t.viewsPerSec).toLocaleString('en-US')} | ${(t.viewsPerSec / tsViews).toFixed(2)} |`);
    }
  }
  console.log(`\nviews/s on this CPU (${availableParallelism()} cores, load average ${load0.toFixed(1)} at the start, torch ${python.torchVersion}), batches of ${a.batch} fixture X-rays:\n`);
  console.log('| plans | px | planned samples/s (1 thread, no pixel) | TypeScript views/s (1 thread) | torch threads | torch views/s | torch / TypeScript |');
  console.log('|---|---|---|---|---|---|---|');
  for (const line of table) console.log(line);
  console.log('\nparity of these plans, torch (first thread count) against TypeScript:\n');
  console.log('| plans | pixels | largest difference | share of pixels that differ |');
  console.log('|---|---|---|---|');
  for (const line of parity) console.log(line);

  if (a.train) {
    (await openPrepared({ cacheDir: a.cache, data: 'kermany-mini', size: a.trainSize, quiet: true })).close();
    const env = { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR, CXR_SSL_PYTHON: python.path };
    const run = (method: string, render: string) => {
      const args = ['--import', 'tsx', resolve(import.meta.dirname, '../device/gpu-run.ts'), '--device', 'cpu', '--cache', resolve(a.cache), '--name', 'kermany-mini'];
      args.push('--size', `${a.trainSize}`, '--task', method, '--encoder', a.encoder, '--batch', `${a.trainBatch}`, '--workers', '0', '--warmup-seconds', '3', '--seconds', `${2 * a.seconds}`, '--render', render);
      const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) {
        // a failed round (e.g. a process killed on a machine out of memory) is reported and left out, not fatal
        console.error(`gpu-run ${method} --render ${render} failed (${r.status ?? r.signal}): ${r.stderr.split('\n').filter((l) => !l.includes('[py]')).slice(-6).join('\n')}`);
        return { samplesPerSec: 0, samplesPerCpuSec: 0 };
      }
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { samplesPerSec: number; samplesPerCpuSec: number };
    };
    const lines: string[] = [];
    for (const method of (a.trainMethods ?? `${twoViews},${wholeLabelled}`).split(',')) {
      const best = { typescript: { wall: 0, cpu: 0 }, torch: { wall: 0, cpu: 0 } };
      for (let r = 0; r < a.rounds; r++)
        for (const render of ['typescript', 'torch'] as const) {
          const m = run(method, render);
          best[render] = { wall: Math.max(best[render].wall, m.samplesPerSec), cpu: Math.max(best[render].cpu, m.samplesPerCpuSec) };
        }
      const { typescript: ts, torch: t } = best;
      lines.push(`| ${method} | ${a.trainSize} | ${a.encoder} | ${a.trainBatch} | ${ts.wall.toFixed(1)} | ${t.wall.toFixed(1)} | ${(t.wall / ts.wall).toFixed(2)} | ${ts.cpu.toFixed(1)} | ${t.cpu.toFixed(1)} | ${(t.cpu / ts.cpu).toFixed(2)} |`);
    }
    console.log(`\ntraining samples/s on CPU (torch engine, its default threads; sampling in the main thread; best of ${a.rounds} alternating rounds; load average ${loadavg()[0].toFixed(1)} at the end):\n`);
    console.log('| method | px | encoder | batch | samples/s, --render typescript | --render torch | torch / typescript | samples per CPU second (node + python), typescript | torch | torch / typescript |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const line of lines) console.log(line);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
