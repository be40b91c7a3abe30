import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Weights } from '@cxr-ssl/models';

/** Helpers of the engine tests (not part of the package's API). */
export const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** the largest |a - b| over every tensor of `a` (same names in `b`) */
export function maxDiff(a: Weights, b: Weights): number {
  let m = 0;
  for (const [name, t] of a) m = Math.max(m, maxAbsDiff(t.data, b.get(name)!.data));
  return m;
}

/** a zombie (exited, not yet reaped) counts as gone */
export function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat')) return existsSync(stat) && !/\) Z /.test(readFileSync(stat, 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a `*.script.ts` helper of this folder and resolves with it and the JSON of its first stdout line. */
export async function spawnHelper(script: string, args: string[] = []): Promise<{ parent: ChildProcess; said: Record<string, unknown> }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    parent.on('exit', (code) => reject(new Error(`helper exited early (${code})`)));
  });
  return { parent, said: JSON.parse(line) as Record<string, unknown> };
}

/** Waits up to `ms` for every pid to be gone; returns those still alive. */
export async function survivors(pids: number[], ms = 20_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive);
}

/** A TCP port that was free a moment ago (for a rendezvous on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
