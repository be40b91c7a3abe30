/**
 * The torch engine's measured peak memory against packages/train/src/memory.ts's estimate, on the
 * fixture X-rays: for each configuration, a fresh engine (CPU) trains `--steps` steps and the Python
 * process's high-water mark (VmHWM, /proc/<pid>/status; what the kernel's OOM killer weighs) is read
 * beside torchStepBytes(). The constants TORCH_CPU_* come from here.
 *   npx tsx tools/probe/torch-memory.ts [--configs <encoder>:<method>:<size>:<batch>,...] [--options '{"localCrops":0}'] [--steps 3] [--cache cache]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBatchStream, openCache } from '@cxr-ssl/data';
import { encoderSpec } from '@cxr-ssl/models';
import { parseMethod, PretextConfig, startWeights, torchStepBytes, torchStepShape } from '@cxr-ssl/train';
import { TorchEngine } from '../../packages/train/src/engines/torch.ts';
import { openPrepared } from '../../packages/cli/src/dataset.ts';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'vgg-small-bn:rotation:64:32,vgg-small-bn:rotation:64:128,vgg-small-bn:simclr:64:64,resnet18:rotation:128:16,vgg16-bn:rotation:128:8' },
    steps: { type: 'string', default: '3' },
    cache: { type: 'string', default: 'cache' },
    threads: { type: 'string', default: '1' },
    /** method options (JSON) for every configuration, e.g. '{"localCrops":0}' */
    options: { type: 'string', default: '{}' },
  },
});
const status = (pid: number, key: string) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN) * 1024;
const gib = (b: number) => +(b / 2 ** 30).toFixed(3);

for (const c of values.configs!.split(',')) {
  const [encoderName, method, sizeText, batchText] = c.split(':');
  const size = Number(sizeText);
  const batch = Number(batchText);
  (await openPrepared({ cacheDir: values.cache!, data: 'kermany-mini', size, quiet: true })).close();
  const cache = { dir: resolve(values.cache!), name: 'kermany-mini', size };
  const indices = openCache(cache.dir, cache.name, size).indices('train');
  const run = parseMethod(method, JSON.parse(values.options!));
  const encoder = encoderSpec(encoderName);
  const head = run.head(encoder);
  const engine = new TorchEngine({ device: 'cpu', threads: Number(values.threads) });
  const cfg = PretextConfig.parse({ task: method, encoder: encoderName, cache, batchSize: batch, taskOptions: JSON.parse(values.options!) });
  const encodes = run.encodes(size);
  await engine.init({ encoder, head, weights: startWeights(cfg, encoder, head), optimizer: cfg.optimizer, loss: run.loss, seed: 0, encodes });
  const afterInit = status(engine.pid!, 'VmHWM');
  const all = [...indices, ...indices, ...indices, ...indices].slice(0, Math.max(batch, indices.length)); // the fixture's 57 train images, repeated up to a batch
  const stream = createBatchStream({ cache, task: method, samplerOptions: run.samplerOptions, indices: all, batchSize: batch, seed: 0, epoch: 0, batches: 1 });
  let first: Awaited<ReturnType<typeof stream.next>>['value'];
  for await (const b of stream) first = b;
  for (let s = 0; s < Number(values.steps); s++) await engine.trainStep(first!, run.scalarsAt(s, 10, 0.01));
  const peak = status(engine.pid!, 'VmHWM');
  const shape = torchStepShape(encoder, encodes, batch);
  const estimate = torchStepBytes(shape, 'cpu');
  console.log(JSON.stringify({ encoder: encoderName, method, size, batch, afterInitGiB: gib(afterInit), peakGiB: gib(peak), estimateGiB: gib(estimate), estimateOverPeak: +(estimate / peak).toFixed(3), trainedFloats: shape.trained, averagedFloats: shape.averaged }));
  await engine.close();
}
