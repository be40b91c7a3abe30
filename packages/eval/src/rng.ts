import type { Rng } from '@cxr-ssl/data';

/**
 * Stand-in seeded RNG (mulberry32) until @cxr-ssl/data exports `createRng`; same `Rng` contract,
 * so swapping it is a one-line import change. Only eval code uses it.
 */
export function localRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    state: () => [s],
  };
}

/** In-place Fisher-Yates shuffle driven by `rng`. */
export function shuffleInPlace(a: Int32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
