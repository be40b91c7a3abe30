import { describe, expect, it } from 'vitest';
import { hamming, hammingStats, permutationSet, validatePermutationSet } from './permutations.ts';

describe('permutationSet', () => {
  it('gives 100 distinct permutations of 0..8 with a large minimum Hamming distance', () => {
    const set = permutationSet(100, 0);
    expect(set).toHaveLength(100);
    validatePermutationSet(set);
    const stats = hammingStats(set);
    console.log(`jigsaw set n=100 seed=0: min Hamming ${stats.min}, mean ${stats.mean.toFixed(3)}`);
    // a random set of 100 has min ~3-4; greedy max-min keeps every pair at least 6 apart
    // (Noroozi & Favaro's 100-permutation set has mean ~8.0)
    expect(stats.min).toBeGreaterThanOrEqual(6);
    expect(stats.mean).toBeGreaterThan(7.9);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = permutationSet(30, 1);
    expect(permutationSet(30, 1)).toEqual(a);
    expect(permutationSet(30, 2)).not.toEqual(a);
    // returned copies: mutating one does not corrupt the memo
    a[0][0] = 99;
    expect(permutationSet(30, 1)[0][0]).not.toBe(99);
  });

  it('hamming / hammingStats / validation', () => {
    expect(hamming([0, 1, 2], [0, 2, 1])).toBe(2);
    expect(hammingStats([[0, 1, 2], [0, 2, 1], [1, 2, 0]])).toEqual({ min: 2, mean: 7 / 3 });
    expect(() => validatePermutationSet([[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 7, 8]])).toThrow(/twice/);
    expect(() => permutationSet(0)).toThrow(/1\.\.362880/);
  });
});
