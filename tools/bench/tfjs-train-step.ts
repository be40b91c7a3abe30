/**
 * tfjs training speed: ms per train step of vgg-small on the rotation task (batch 32 by default),
 * wasm backend (XNNPACK + our forward-conv gradient kernels) against the pure-JS cpu backend, same
 * weights, same real fixture batch, same process. Prints a table and the cpu/wasm ratio per size.
 * The cpu backend is 200-400x slower on training steps (its conv gradients are plain JS loops): it
 * gets fewer timed steps, no warm-up (it has no compile), and runs only up to --cpu-max-size
 * (default 32 px, where one cpu step at batch 32 already takes about 5 minutes on 2 cores;
 * measured: 32 px 685 ms wasm vs 292 s cpu, 426x; wasm 64 px 2.3 s, 128 px 11.1 s per step).
 *
 *   npx tsx tools/bench/tfjs-train-step.ts [--sizes 32,64,128] [--batch 32] [--steps 3] [--cpu-steps 1]
 *                                          [--cpu-max-size 32] [--backends wasm,cpu] [--encoder vgg-small]
 */
import { parseArgs } from 'node:util';
import { encoderSpec, type HeadSpec, initWeights } from '@cxr-ssl/models';
import { z } from 'zod';
import { OptimizerConfig } from '../../packages/train/src/engine.ts';
import type { Batch } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { TfjsEngine } from '../../packages/train/src/engines/tfjs.ts';

const list = (s: string) => s.split(',').map((v) => v.trim());
const Args = z.object({
  sizes: z.string().default('32,64,128').transform((s) => list(s).map(Number)).pipe(z.array(z.number().int().min(16))),
  batch: z.coerce.number().int().positive().default(32),
  steps: z.coerce.number().int().positive().default(3),
  'cpu-steps': z.coerce.number().int().positive().default(1),
  'cpu-max-size': z.coerce.number().int().positive().default(32),
  backends: z.string().default('wasm,cpu').transform(list).pipe(z.array(z.enum(['wasm', 'cpu']))),
  encoder: z.string().default('vgg-small'),
});
const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(Args.shape).map((k) => [k, { type: 'string' as const }])),
});
const args = Args.parse(values);

async function msPerStep(backend: 'wasm' | 'cpu', size: number): Promise<{ ms: number; device: string }> {
  const images = await fixtureImages(args.batch, size);
  // one view per sample, 4 classes: the step's cost is the encoder's, whatever the method
  const batch: Batch = { x: Uint8Array.from(images.flatMap((im) => [...im.pixels])), y: Int32Array.from(images, (_, i) => i % 4), shape: [images.length, 1, size, size] };
  const encoder = encoderSpec(args.encoder);
  const head: HeadSpec = { kind: 'classifier', views: 1, hidden: 256, classes: 4 };
  const engine = new TfjsEngine({ backend });
  await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: OptimizerConfig.parse({}), seed: 1 });
  const steps = backend === 'wasm' ? args.steps : args['cpu-steps'];
  if (backend === 'wasm') await engine.trainStep(batch, { lr: 0.001 }); // wasm compile + XNNPACK operator set-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await engine.trainStep(batch, { lr: 0.001 });
  const ms = (performance.now() - t0) / steps;
  await engine.close();
  return { ms, device: engine.device };
}

const rows: string[][] = [];
for (const size of args.sizes) {
  const result: Partial<Record<'wasm' | 'cpu', number>> = {};
  for (const backend of args.backends) {
    if (backend === 'cpu' && size > args['cpu-max-size']) continue;
    const { ms, device } = await msPerStep(backend, size);
    result[backend] = ms;
    console.error(`${args.encoder} ${size} px batch ${args.batch}: ${device}: ${ms.toFixed(0)} ms/step`);
  }
  const ratio = result.cpu && result.wasm ? `${(result.cpu / result.wasm).toFixed(1)}x` : '-';
  const fmt = (v?: number) => (v === undefined ? '-' : v.toFixed(0));
  rows.push([`${size}`, fmt(result.wasm), fmt(result.cpu), ratio]);
}
console.log(`\ntfjs train step, ${args.encoder}, one view, batch ${args.batch}`);
console.log('| size px | wasm ms/step | cpu ms/step | cpu / wasm |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (args.backends.includes('cpu') && args.sizes.some((s) => s > args['cpu-max-size'])) {
  console.log(`(cpu skipped above ${args['cpu-max-size']} px: raise --cpu-max-size to measure it, minutes per step)`);
}
