import type { Rng } from './types.ts';

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, passes PractRand,
 * a handful of 32-bit ops per draw. Seeded through splitmix32 so nearby seeds (0, 1, 2...) give
 * unrelated streams.
 */

/** splitmix32 finaliser: a good 32-bit avalanche mix. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Combines integers (run seed, epoch, batch index, ...) into one 32-bit seed. Order matters, so
 * deriveSeed(s, 1, 2) differs from deriveSeed(s, 2, 1); used so that batch k of epoch e is the
 * same whichever worker draws it.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new Error(`deriveSeed: part ${p} is not a finite number`);
    // fold the high bits too so large integers (e.g. 2**40) still matter
    h = mix32(h ^ mix32(p >>> 0) ^ mix32(Math.floor(p / 2 ** 32) + 0x1234567));
  }
  return h;
}

class Sfc32 implements Rng {
  constructor(
    private a: number,
    private b: number,
    private c: number,
    private d: number,
  ) {}

  private u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`rng.int(n): n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  state(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }
}

export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => (s = mix32(s));
  const rng = new Sfc32(next(), next(), next(), next() | 1);
  // discard the first outputs: sfc32 mixes its state over the first dozen rounds
  for (let i = 0; i < 12; i++) rng.next();
  return rng;
}

/** Restores a generator from `rng.state()`: the continuation is bit-identical. */
export function rngFromState(state: number[]): Rng {
  if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
    throw new Error(`rngFromState: expected 4 uint32 values from rng.state(), got ${JSON.stringify(state)}`);
  }
  return new Sfc32(state[0] | 0, state[1] | 0, state[2] | 0, state[3] | 0);
}

/** In-place Fisher-Yates shuffle driven by `rng`. */
export function shuffleInPlace<T>(arr: T[] | Int32Array | Uint32Array, rng: Rng): typeof arr {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}
