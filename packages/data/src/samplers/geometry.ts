import { z } from 'zod';
import { type Augment, augmentList } from '../augment/index.ts';
import type { ViewBuilder, ViewPlan } from '../augment/plan.ts';
import { planAugment } from '../augment/registry.ts';
import type { Rng } from '../types.ts';

/**
 * The 3x3 grid shared by the context and jigsaw tasks. cell = floor(S/3); the grid is centred
 * (the 0-2 left-over pixels split between the borders); a patch of `patch` px sits at a random
 * jitter inside its cell, so the gap between neighbouring patches is random (Doersch et al.:
 * stops the network from matching edges). Default patch = round(0.75 * cell): 64 px at 256
 * (cell 85, as Noroozi's 64 px tiles in 75 px cells), 32 px at 128 (cell 42).
 */
export interface Grid {
  cell: number;
  patch: number;
  /** top-left corner of the grid (same for x and y) */
  offset: number;
}

export const gridPatchOption = z
  .number()
  .int()
  .positive()
  .optional()
  .describe('patch side in px; default round(0.75 * floor(size / 3))');

export function grid(size: number, patch?: number): Grid {
  const cell = Math.floor(size / 3);
  const p = patch ?? Math.round(0.75 * cell);
  if (!(cell >= 1) || p < 1 || p > cell) {
    throw new Error(
      `grid: patch ${p} px does not fit a 3x3 grid of ${size} px images (cell ${cell} px): choose patch <= ${cell}`,
    );
  }
  return { cell, patch: p, offset: Math.floor((size - 3 * cell) / 2) };
}

/**
 * Whole-image augmentations applied before the grid is cut (context, jigsaw): e.g. `body` to cut the
 * margins away, `crop` with ratio [1, 1] to place the grid at a random offset and scale. Off by default.
 */
export const beforeGridOption = augmentList
  .default(() => [])
  .describe('whole-image augmentations before the grid is cut (default none)');

/** Top-left corner of a random patch inside grid cell (row, col); draws y then x. */
export function jitteredCorner(g: Grid, row: number, col: number, int: (n: number) => number): [number, number] {
  const slack = g.cell - g.patch + 1;
  const top = g.offset + row * g.cell + int(slack);
  const left = g.offset + col * g.cell + int(slack);
  return [top, left];
}

/**
 * The patches at `corners` of the whole-image view `whole` (its `before` planned already), then
 * `list` planned on each patch, in patch order.
 */
export function patchViews(whole: ViewBuilder, corners: readonly [number, number][], patch: number, rng: Rng, list: readonly Augment[]): ViewPlan[] {
  const views = corners.map(([top, left]) => {
    const v = whole.clone();
    v.geometry([1, 0, top, 0, 1, left], patch);
    return v;
  });
  for (const v of views) planAugment(v, rng, list);
  return views.map((v) => v.plan());
}

export function checkImage(pixels: Uint8Array, size: number, task: string): void {
  if (pixels.length !== size * size) {
    throw new Error(`${task} sampler: image has ${pixels.length} bytes, expected ${size}x${size}`);
  }
}
