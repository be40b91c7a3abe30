import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';

/** Default worker count: all cores (decoding and sampling are CPU bound). */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * A Piscina pool running a .ts worker module: the workers load tsx themselves, so this works
 * the same under tsx, vitest and the CLI.
 */
export function createPool(file: URL, threads: number): Piscina {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`workers must be a positive integer, got ${threads}`);
  return new Piscina({
    filename: file.href,
    minThreads: threads,
    maxThreads: threads,
    // resolved from here, not from the user's working directory (which has no node_modules)
    // (resolved lazily: evaluating import.meta.resolve inside a tsx-loaded worker breaks its loader)
    execArgv: ['--import', import.meta.resolve('tsx')],
  });
}
