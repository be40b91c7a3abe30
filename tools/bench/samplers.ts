/**
 * Pretext sampling throughput, single thread: samples/s per task at 128 and 256 px on a real
 * fixture X-ray; then the batch stream with 2 worker threads against in-process sampling.
 *   npx tsx tools/bench/samplers.ts [--seconds 1]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  SAMPLERS,
  closeBatchPools,
  createBatchStream,
  createRng,
  decodeGrey,
  fixtureDir,
  openCache,
  paintSample,
  permutationSet,
  prepare,
} from '@cxr-ssl/data';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' } } });
const budget = Number(values.seconds) * 1000;
const dir = join(fixtureDir(), 'train', 'NORMAL');
const file = join(dir, readdirSync(dir).sort()[0]);
permutationSet(100, 0); // built once per process: not part of the sampling rate

console.log('samples/s, single thread');
console.log('task'.padEnd(14) + '128 px'.padStart(12) + '256 px'.padStart(12));
// each task with its default options, and the other side of its augmentation default (none where it
// augments, per-view intensity jitter where it does not): what augmentation costs
const rows = Object.entries(SAMPLERS).flatMap(([name, task]) => {
  const opts = task.options.parse({}) as { augment: unknown[] };
  const other = opts.augment.length > 0 ? ['-aug', []] : ['+intensity', [{ name: 'intensity' }]];
  return [[name, task, opts] as const, [`${name} ${other[0]}`, task, task.options.parse({ ...opts, augment: other[1] })] as const];
});
for (const [name, task, o] of rows) {
  const opts = o as never;
  const row: string[] = [];
  for (const size of [128, 256]) {
    const img = { pixels: await decodeGrey(file, size), size };
    const rng = createRng(1);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < budget) for (let i = 0; i < 100; i++, n++) paintSample(task, img, rng, opts);
    row.push((n / ((performance.now() - t0) / 1000)).toFixed(0).padStart(12));
  }
  console.log(name.padEnd(14) + row.join(''));
}

const cacheDir = mkdtempSync(join(tmpdir(), 'bench-samplers-'));
await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [128], cacheDir, name: 'mini', workers: 0, valFraction: 0 });
// the 64 fixture images 20 times over: epochs long enough that the prefetch pipeline, not its
// start and drain at each epoch boundary, sets the rate
const indices = Array.from({ length: 20 }, () => openCache(cacheDir, 'mini', 128).indices('train')).flat();
console.log(`\nbatch stream, ${indices.length} images per epoch at 128 px, batch 32, ~${(3 * budget) / 1000}s per cell`);
console.log('task'.padEnd(10) + 'in-process'.padStart(12) + '2 workers'.padStart(12) + '  ratio');
for (const task of Object.keys(SAMPLERS)) {
  const rate = async (workers: number) => {
    // warm-up epoch: starts the pool's threads and builds the jigsaw set in each
    for await (const _ of createBatchStream({ cache: { dir: cacheDir, name: 'mini', size: 128 }, task, indices, batchSize: 32, seed: 0, epoch: 99, workers })) void _;
    let n = 0;
    const t0 = performance.now();
    for (let epoch = 0; performance.now() - t0 < 3 * budget; epoch++) {
      for await (const b of createBatchStream({ cache: { dir: cacheDir, name: 'mini', size: 128 }, task, indices, batchSize: 32, seed: 0, epoch, workers })) n += b.shape[0];
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const a = await rate(0);
  const b = await rate(2);
  console.log(task.padEnd(10) + a.toFixed(0).padStart(12) + b.toFixed(0).padStart(12) + `  ${(b / a).toFixed(2)}x`);
}
console.log(`load average: ${loadavg()[0].toFixed(1)}`);
await closeBatchPools();
rmSync(cacheDir, { recursive: true, force: true });
