/**
 * Training throughput of the two engines on the same work: torch (Python child, CPU) against
 * tfjs (wasm), same encoder, task, batch, image size and real fixture X-rays, measured one after
 * the other in this process, alternating for `rounds` rounds; the best round of each counts (the
 * machine may be shared: the best round is the least disturbed). Prints samples/s and torch/tfjs.
 *
 *   npx tsx tools/bench/train-engines.ts [--encoder vgg-small] [--method <name>] [--size 64]
 *             [--batch 16] [--steps 10] [--rounds 3] [--threads 2] [--tfjs wasm|cpu|auto]
 */
import { parseArgs } from 'node:util';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { createEngine, type Engine, type EngineInit, METHODS, methodHead, methodLoss } from '@cxr-ssl/train';
import { z } from 'zod';
import { fixtureImages, taskBatch } from '@cxr-ssl/data/testing';

const Args = z.object({
  encoder: z.string().default('vgg-small'),
  /** default: the registry's first method */
  method: z.enum(Object.keys(METHODS) as [string, ...string[]]).default(Object.keys(METHODS)[0]),
  size: z.coerce.number().int().positive().default(64),
  batch: z.coerce.number().int().positive().default(16),
  steps: z.coerce.number().int().positive().default(10),
  rounds: z.coerce.number().int().positive().default(3),
  threads: z.coerce.number().int().positive().default(2),
  tfjs: z.enum(['wasm', 'cpu', 'auto']).default('wasm'),
});
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(Args.shape).map((k) => [k, { type: 'string' as const }])) });
const args = Args.parse(values);

const images = await fixtureImages(args.batch, args.size);
const { batch } = taskBatch(args.method as never, images, 1);
const encoder = encoderSpec(args.encoder);
const head = methodHead(args.method, encoder, {});
const init: EngineInit = { encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 }, loss: methodLoss(args.method, {}), seed: 1 };

async function measure(engine: Engine): Promise<{ rate: number; loss: number }> {
  const inFlight = engine.inFlight ?? 1;
  const t0 = performance.now();
  const pending: Promise<{ loss: number }>[] = [];
  let loss = Number.NaN;
  for (let i = 0; i < args.steps; i++) {
    pending.push(engine.trainStep(batch, { lr: 0.01 }));
    if (pending.length >= inFlight) loss = (await pending.shift()!).loss;
  }
  for (const p of pending) loss = (await p).loss;
  const rate = (args.steps * args.batch) / ((performance.now() - t0) / 1000);
  return { rate, loss };
}

const torch = (await createEngine('torch', { torch: { device: 'cpu', threads: args.threads } })).engine;
const tfjs = (await createEngine('tfjs', { tfjs: { backend: args.tfjs } })).engine;
for (const e of [torch, tfjs]) {
  await e.init(init);
  for (let i = 0; i < 2; i++) await e.trainStep(batch, { lr: 0.01 }); // warm-up (graph build, allocator)
}
const best = { torch: { rate: 0, loss: Number.NaN }, tfjs: { rate: 0, loss: Number.NaN } };
for (let r = 0; r < args.rounds; r++) {
  for (const [name, e] of [['torch', torch], ['tfjs', tfjs]] as const) {
    const m = await measure(e);
    console.log(`round ${r + 1} ${name}: ${m.rate.toFixed(1)} samples/s`);
    if (m.rate > best[name].rate) best[name] = m;
  }
}
await torch.close();
await tfjs.close();
const t = best.torch;
const f = best.tfjs;
console.log(`torch  ${torch.device}: ${t.rate.toFixed(1)} samples/s (loss ${t.loss.toFixed(4)})`);
console.log(`tfjs   ${tfjs.device}: ${f.rate.toFixed(1)} samples/s (loss ${f.loss.toFixed(4)})`);
console.log(
  `${args.encoder} ${args.method} ${args.size}px batch ${args.batch}, best of ${args.rounds} x ${args.steps} steps: torch/tfjs = ${(t.rate / f.rate).toFixed(2)}x`,
);
