import { createRng } from '../rng.ts';

/**
 * Jigsaw permutation sets (Noroozi & Favaro 2016, "maximal Hamming distance"): start from one
 * random permutation of the 9 tiles, then repeatedly add the permutation of all 9! whose minimum
 * Hamming distance to the set chosen so far is largest (greedy max-min); ties go to the larger
 * summed distance, then to a seeded random pick, so the set is deterministic per (n, seed) and
 * different seeds give different sets. A set must be saved with the run that used it.
 */
const TILES = 9;
const FACT9 = 362_880;

let all: Uint8Array | undefined;

/** All 9! permutations in lexicographic order, flattened (9 bytes each). */
function allPermutations(): Uint8Array {
  if (all) return all;
  const out = new Uint8Array(FACT9 * TILES);
  const p = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  for (let k = 0; k < FACT9; k++) {
    out.set(p, k * TILES);
    // next lexicographic permutation
    let i = TILES - 2;
    while (i >= 0 && p[i] > p[i + 1]) i--;
    if (i < 0) break;
    let j = TILES - 1;
    while (p[j] < p[i]) j--;
    [p[i], p[j]] = [p[j], p[i]];
    for (let a = i + 1, b = TILES - 1; a < b; a++, b--) [p[a], p[b]] = [p[b], p[a]];
  }
  return (all = out);
}

const memo = new Map<string, number[][]>();

export function permutationSet(n: number, seed = 0): number[][] {
  if (!Number.isInteger(n) || n < 1 || n > FACT9) {
    throw new Error(`permutationSet: n must be an integer in 1..${FACT9}, got ${n}`);
  }
  const key = `${n}:${seed}`;
  const hit = memo.get(key);
  if (hit) return hit.map((p) => [...p]);
  const perms = allPermutations();
  const rng = createRng(seed);
  const minD = new Uint8Array(FACT9).fill(255);
  const sumD = new Uint32Array(FACT9);
  const chosen: number[] = [rng.int(FACT9)];
  const add = (c: number) => {
    const co = c * TILES;
    for (let k = 0, o = 0; k < FACT9; k++, o += TILES) {
      let d = 0;
      for (let t = 0; t < TILES; t++) if (perms[o + t] !== perms[co + t]) d++;
      if (d < minD[k]) minD[k] = d;
      sumD[k] += d;
    }
  };
  add(chosen[0]);
  while (chosen.length < n) {
    let bestMin = -1;
    let bestSum = -1;
    let ties = 0;
    for (let k = 0; k < FACT9; k++) {
      const m = minD[k];
      if (m < bestMin) continue;
      const s = sumD[k];
      if (m > bestMin || s > bestSum) {
        bestMin = m;
        bestSum = s;
        ties = 1;
      } else if (s === bestSum) ties++;
    }
    let pick = rng.int(ties);
    let c = -1;
    for (let k = 0; k < FACT9; k++) {
      if (minD[k] === bestMin && sumD[k] === bestSum && pick-- === 0) {
        c = k;
        break;
      }
    }
    chosen.push(c);
    add(c);
  }
  const set = chosen.map((c) => Array.from(perms.subarray(c * TILES, c * TILES + TILES)));
  memo.set(key, set);
  return set.map((p) => [...p]);
}

export function hamming(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** Minimum and mean pairwise Hamming distance of a set (the figures Noroozi & Favaro report). */
export function hammingStats(set: readonly (readonly number[])[]): { min: number; mean: number } {
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const d = hamming(set[i], set[j]);
      if (d < min) min = d;
      sum += d;
      pairs++;
    }
  }
  return { min: pairs ? min : 0, mean: pairs ? sum / pairs : 0 };
}

/** Checks a set loaded from a run: distinct permutations of 0..8. Throws naming the bad row. */
export function validatePermutationSet(set: readonly (readonly number[])[]): void {
  const seen = new Set<string>();
  set.forEach((p, i) => {
    const sorted = [...p].sort((a, b) => a - b);
    if (p.length !== TILES || sorted.some((v, k) => v !== k)) {
      throw new Error(`permutation ${i} (${JSON.stringify(p)}) is not a permutation of 0..8`);
    }
    const key = p.join(',');
    if (seen.has(key)) throw new Error(`permutation ${i} (${key}) appears twice in the set`);
    seen.add(key);
  });
}
