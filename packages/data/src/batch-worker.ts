import { statSync } from 'node:fs';
import { move } from 'piscina';
import { packBatch } from './batch-plans.ts';
import { type BatchJob, makeBatch } from './batches.ts';
import { cacheFiles } from './cache/format.ts';
import { type DatasetCache, openCache } from './cache/read.ts';
import { getSampler } from './samplers/index.ts';

// each worker opens a cache once and keeps it (small caches are held in memory, big ones read per image)
const caches = new Map<string, DatasetCache>();

export default function batchJob(job: BatchJob) {
  const { dir, name, size } = job.cache;
  // the manifest's mtime in the key: a cache rebuilt under the same name is reopened
  const key = `${dir}\0${name}\0${size}\0${statSync(cacheFiles(dir, name, size).json).mtimeMs}`;
  let cache = caches.get(key);
  if (!cache) {
    cache = openCache(job.cache.dir, job.cache.name, job.cache.size);
    caches.set(key, cache);
  }
  const task = getSampler(job.task);
  // options arrive validated by the stream; the sampler only reads them
  return move(packBatch(makeBatch(cache, task, job.taskOptions, job.indices, job.seed, job.paint)));
}
