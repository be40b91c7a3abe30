import { statSync } from 'node:fs';
import { move } from 'piscina';
import { packBatch } from './batch-plans.ts';
import { type BatchJob, makeBatch } from './batches.ts';
import { cacheFiles } from './cache/format.ts';
import { type CacheInfo, type DatasetCache, openCache } from './cache/read.ts';
import { openSource } from './pooled.ts';
import { getSampler } from './samplers/index.ts';

// each worker opens a cache once and keeps it (small caches are held in memory, big ones read per image)
const caches = new Map<string, DatasetCache>();

function kept({ dir, name, size }: CacheInfo): DatasetCache {
  // the manifest's mtime in the key: a cache rebuilt under the same name is reopened
  const key = `${dir}\0${name}\0${size}\0${statSync(cacheFiles(dir, name, size).json).mtimeMs}`;
  let cache = caches.get(key);
  if (!cache) {
    cache = openCache(dir, name, size);
    caches.set(key, cache);
  }
  return cache;
}

export default function batchJob(job: BatchJob) {
  // a pool's sets are each kept open as above; its index is rebuilt per job (cheap)
  const cache = Array.isArray(job.cache) ? openSource(job.cache, kept) : kept(job.cache as CacheInfo);
  const task = getSampler(job.task);
  // options arrive validated by the stream; the sampler only reads them
  return move(packBatch(makeBatch(cache, task, job.taskOptions, job.indices, job.seed, job.paint)));
}
