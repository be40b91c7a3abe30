import type { Entry, Split } from './adapters/types.ts';
import { deriveSeed, mix32 } from './rng.ts';

/** FNV-1a over UTF-16 code units, then mixed: a stable 32-bit hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export interface CarveOptions {
  /** share of the training pool moved to val (default 0.1) */
  fraction?: number;
  seed?: number;
}

/**
 * Gives every entry a split. Entries without one form the training pool with those marked
 * 'train'. When the source has no 'val' split, patients (or images without a known patient) are
 * ranked by hash(patient id, seed) and taken in that order until `fraction` of the pool is in
 * val, so no patient straddles train and val and the result depends only on (ids, seed).
 * A source that already has 'val' keeps it untouched.
 */
export function carveValidation(entries: readonly Entry[], opts: CarveOptions = {}): (Entry & { split: Split })[] {
  const fraction = opts.fraction ?? 0.1;
  const seed = opts.seed ?? 0;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`valFraction must be in [0, 1), got ${fraction}`);
  const out = entries.map((e) => ({ ...e, split: e.split ?? 'train' }) as Entry & { split: Split });
  if (fraction === 0 || out.some((e) => e.split === 'val')) return out;

  const groups = new Map<string, number[]>();
  out.forEach((e, i) => {
    if (e.split !== 'train') return;
    const key = e.patient !== undefined ? `patient:${e.patient}` : `image:${e.id}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const pool = [...groups.values()].reduce((n, g) => n + g.length, 0);
  const target = Math.round(fraction * pool);
  const ranked = [...groups.entries()]
    .map(([key, idx]) => ({ key, idx, h: deriveSeed(seed, hashString(key)) }))
    .sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : 1));
  let taken = 0;
  for (const g of ranked) {
    if (taken >= target) break;
    for (const i of g.idx) out[i].split = 'val';
    taken += g.idx.length;
  }
  return out;
}
