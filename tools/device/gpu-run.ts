/**
 * One measurement of the real pipeline: dataset cache -> TS samplers in worker threads (batch
 * stream) -> torch engine over the pipe, the views painted by `--render` (auto: as a run picks;
 * typescript: in the sampling threads; torch: by the engine, on its device, from the plans).
 * Prints one JSON line: {samplesPerSec, renderer, ...}. With --real-steps N: a real run instead
 * (tools/bench/real-run.ts: runPretext at its defaults on this cache, N steps), {kind: 'real', samplesPerSec, ...}.
 * Run on the GPU box by gpu-check.sh (with lite-hooks.mjs); runs here too (`--device cpu`).
 *   node --import tsx [--import ./tools/device/lite-hooks.mjs] tools/device/gpu-run.ts \
 *     --cache .device/cache --name kermany --size 128 --task rotation --encoder vgg16 --batch 128
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Batch, closeBatchPools, createBatchStream, getSampler, openCache } from '@cxr-ssl/data';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import type { StepResult } from '../../packages/train/src/engine.ts';
import { DdpTorchEngine } from '../../packages/train/src/engines/ddp.ts';
import { TorchEngine } from '../../packages/train/src/engines/torch.ts';
import { parseMethod } from '../../packages/train/src/method-options.ts';
import { RenderOption, resolveRenderer } from '../../packages/train/src/render.ts';
import { realRunRate } from '../bench/real-run.ts';

const { values: a } = parseArgs({
  options: {
    cache: { type: 'string', default: '.device/cache' },
    name: { type: 'string', default: 'kermany' },
    size: { type: 'string', default: '128' },
    task: { type: 'string' },
    encoder: { type: 'string', default: 'vgg16' },
    batch: { type: 'string', default: '128' },
    device: { type: 'string', default: 'auto' },
    python: { type: 'string' },
    workers: { type: 'string', default: '8' },
    'in-flight': { type: 'string' },
    'warmup-seconds': { type: 'string', default: '6' },
    seconds: { type: 'string', default: '15' },
    compile: { type: 'boolean', default: false },
    /** torch CPU threads (default: the engine's, all cores) */
    threads: { type: 'string' },
    /** DDP over this many processes (1: a 1-process DDP, to measure DDP's own cost against the plain engine) */
    gpus: { type: 'string' },
    render: { type: 'string', default: 'auto' },
    'real-steps': { type: 'string' },
  },
});
const size = Number(a.size);
const batchSize = Number(a.batch);
const cache = openCache(a.cache!, a.name!, size);
const rows = Array.from({ length: cache.count }, (_, i) => i);
cache.close();
const task = getSampler(a.task!);
const taskOptions = task.options.parse({}) as Record<string, unknown>;
const encoder = encoderSpec(a.encoder!);
const method = parseMethod(a.task!, taskOptions);
const head = method.head(encoder);
const loss = method.loss;
// the method's per-step scalars (BYOL's and DINO's tau, DINO's teacher temperature) at step 0, as bench_raw gets them
const scalars = method.scalarsAt(0, 1, 0.001);
const engineOptions = {
  device: a.device as 'auto' | 'cpu' | 'cuda',
  python: a.python,
  inFlight: a['in-flight'] ? Number(a['in-flight']) : undefined,
  compile: a.compile,
  threads: a.threads ? Number(a.threads) : undefined,
  onLog: (l: string) => process.stderr.write(`  [py] ${l}\n`),
};
const engine = a.gpus ? new DdpTorchEngine({ ...engineOptions, ranks: Number(a.gpus) }) : new TorchEngine(engineOptions);
if (a['real-steps']) {
  try {
    const cacheInfo = { dir: a.cache!, name: a.name!, size };
    const real = await realRunRate({ cache: cacheInfo, task: a.task!, encoder: a.encoder!, batch: batchSize, steps: Number(a['real-steps']), workers: Number(a.workers), render: RenderOption.parse(a.render), engine });
    console.log(JSON.stringify({ kind: 'real', task: a.task, size, encoder: a.encoder, batch: batchSize, device: engine.device, compile: a.compile, ...real }));
  } finally {
    await engine.close();
    await closeBatchPools();
  }
  process.exit(0);
}
const t0 = performance.now();
await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.001, momentum: 0.9, weightDecay: 0 }, loss, seed: 1 });
const initSeconds = (performance.now() - t0) / 1000;
const renderer = resolveRenderer(RenderOption.parse(a.render), engine);

// one long "epoch" over the rows repeated, so no epoch boundary drains the prefetch queue
const indices = Array.from({ length: Math.max(200_000, batchSize * 4000) }, (_, i) => rows[i % rows.length]);
const stream = createBatchStream({
  cache: { dir: a.cache!, name: a.name!, size },
  task: a.task!,
  taskOptions,
  indices,
  batchSize,
  seed: 7,
  epoch: 0,
  workers: Number(a.workers),
  prefetch: 4 * Number(a.workers),
  paint: renderer === 'typescript',
});

const warmup = Number(a['warmup-seconds']) * 1000;
const window = Number(a.seconds) * 1000;
const pending: Promise<StepResult>[] = [];
let start = 0;
let firstAt = 0;
let counted = 0;
let cpu0 = 0;
/** user + sys seconds of this process and of the engine's Python child (Linux /proc; 0 for it elsewhere) */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let child = 0;
  const pid = (engine as { pid?: number }).pid;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    child = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {}
  return (own.user + own.system) / 1e6 + child;
}
let steps = 0;
let first: StepResult | undefined;
let last: StepResult | undefined;
let shape: Batch['shape'] | undefined;
for await (const batch of stream) {
  shape = batch.shape;
  pending.push(engine.trainStep(batch, scalars));
  if (pending.length < engine.inFlight) continue;
  last = await pending.shift()!;
  first ??= last;
  steps++;
  const now = performance.now();
  firstAt ||= now; // the first steps compile (cudnn.benchmark, torch.compile): the warm-up starts after them
  if (!start && now - firstAt >= warmup) {
    start = now;
    cpu0 = cpuSeconds();
  } else if (start) counted += batchSize;
  if (start && now - start >= window) break;
}
const elapsed = (performance.now() - start) / 1000;
const cpu = cpuSeconds() - cpu0;
await Promise.all(pending);
await stream.return(undefined);
await engine.close();
await closeBatchPools();
console.log(
  JSON.stringify({
    kind: 'ours',
    task: a.task,
    size,
    encoder: a.encoder,
    batch: batchSize,
    shape,
    device: engine.device,
    renderer,
    samplesPerSec: counted / elapsed,
    // CPU seconds (user + sys) of this process and the engine's Python per second of the window: on a
    // shared machine, where wall time depends on the neighbours, samples per CPU second does not
    cpuPerSec: cpu / elapsed,
    samplesPerCpuSec: counted / cpu,
    steps,
    initSeconds,
    compile: a.compile,
    gpus: a.gpus ? Number(a.gpus) : undefined,
    firstLoss: first?.loss,
    lastLoss: last?.loss,
  }),
);
