import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, rngFromState, shuffleInPlace } from './rng.ts';

describe('rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    const sb = Array.from({ length: 100 }, () => b.next());
    const sc = Array.from({ length: 100 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('restores bit-exactly from state()', () => {
    const a = createRng(7);
    for (let i = 0; i < 37; i++) a.next();
    const b = rngFromState(a.state());
    expect(Array.from({ length: 50 }, () => b.int(1000))).toEqual(Array.from({ length: 50 }, () => a.int(1000)));
  });

  it('rejects a malformed state', () => {
    expect(() => rngFromState([1, 2, 3])).toThrow(/4 uint32/);
  });

  it('int(n) is roughly uniform over [0, n)', () => {
    const r = createRng(1);
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 80_000; i++) counts[r.int(8)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400); // ~4 sigma
    expect(() => r.int(0)).toThrow(/positive integer/);
  });

  it('deriveSeed is order-sensitive and spreads nearby inputs', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    expect(deriveSeed(1, 2, 3)).not.toBe(deriveSeed(1, 3, 2));
    const seeds = new Set<number>();
    for (let e = 0; e < 10; e++) for (let k = 0; k < 100; k++) seeds.add(deriveSeed(0, e, k));
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(0, 2 ** 40)).not.toBe(deriveSeed(0, 0));
  });

  it('shuffleInPlace is a permutation and seeded', () => {
    const a = shuffleInPlace([...Array(50).keys()], createRng(3));
    const b = shuffleInPlace([...Array(50).keys()], createRng(3));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });
});
