import { existsSync, readFileSync } from 'node:fs';
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
