import type { Image } from '../types.ts';

/**
 * A view's plan: everything random about it drawn already, no pixel painted. The view is made in
 * stages; a stage samples its input (the cache image for the first stage, the previous stage's
 * output after that) at the points one affine map gives, bilinear with edges replicated, then runs
 * its pixel ops in order. Geometric augmentations (crop, rotate, flip, body, a grid cell, a
 * quarter turn, a resize) only change the current stage's map, so any run of them costs one
 * resampling; a geometric op after a pixel op starts a new stage.
 *
 * The stages' sizes and op names (the `Program`) depend on the options only, never on a draw: an
 * op skipped by its `p` stays in the plan, switched off. So every view of a block has the same
 * program, and a renderer can paint a whole batch of them at once (torch: cxr_torch/render).
 */

/**
 * Out pixel (i, j) (row, column; pixel centres at integers) -> input point
 * y = a i + b j + c, x = d i + e j + f, as [a, b, c, d, e, f].
 */
export type Affine = [number, number, number, number, number, number];

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** m after t: out -> (t) -> middle -> (m) -> input. */
export function compose(m: Affine, t: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const [p, q, r, s, u, v] = t;
  return [a * p + b * s, a * q + b * u, a * r + b * v + c, d * p + e * s, d * q + e * u, d * r + e * v + f];
}

/** The box (top, left, h, w) of a view resized to out x out, half-pixel centres (cv2, torch align_corners=False). */
export function boxMap(top: number, left: number, h: number, w: number, out: number): Affine {
  return [h / out, 0, top + (0.5 * h) / out - 0.5, 0, w / out, left + (0.5 * w) / out - 0.5];
}

export interface PixelOpPlan {
  name: string;
  /** [on (1 or 0: skipped by its p), ...the op's own parameters] */
  params: number[];
}

export interface Stage {
  /** side of this stage's output */
  size: number;
  map: Affine;
  ops: PixelOpPlan[];
}

export interface ViewPlan {
  /** side of the cache image the first stage reads */
  source: number;
  stages: Stage[];
}

/** What a renderer must know beside the numbers: equal for every view of a block. */
export interface Program {
  source: number;
  stages: { size: number; ops: string[] }[];
}

export function programOf(plan: ViewPlan): Program {
  return { source: plan.source, stages: plan.stages.map((s) => ({ size: s.size, ops: s.ops.map((o) => o.name) })) };
}

/** One view's plan under construction (the plan functions of augment/*.ts add to it). */
export class ViewBuilder {
  private stages: Stage[];

  constructor(
    /** the cache image the view is made from (plan functions that measure it, e.g. body, read it through current()) */
    readonly image: Image,
    stages?: Stage[],
  ) {
    this.stages = stages ?? [{ size: image.size, map: IDENTITY, ops: [] }];
  }

  /** side of the view as the next op sees it */
  get size(): number {
    return this.stages[this.stages.length - 1].size;
  }

  /** A geometric op: the new view's pixel (i, j) reads the current view at t(i, j); the new view is size x size. */
  geometry(t: Affine, size = this.size): void {
    const last = this.stages[this.stages.length - 1];
    if (last.ops.length > 0) this.stages.push({ size, map: t, ops: [] });
    else this.stages[this.stages.length - 1] = { size, map: compose(last.map, t), ops: [] };
  }

  /**
   * A quarter turn counter-clockwise (k = 1: pixel (r, c) lands at (S-1-c, r), like numpy.rot90),
   * folded into the last stage's map even after its pixel ops: each of them is unchanged by a quarter
   * turn (pointwise, a symmetric blur, a centred mask), and the noise field, fixed by its seed, is as
   * random either way.
   */
  quarterTurn(k: number): void {
    const last = this.stages[this.stages.length - 1];
    const n = last.size - 1;
    const turns: Affine[] = [IDENTITY, [0, 1, 0, -1, 0, n], [-1, 0, n, 0, -1, n], [0, -1, n, 1, 0, 0]];
    last.map = compose(last.map, turns[((k % 4) + 4) % 4]);
  }

  /** A pixel op on the current view; `params` null: skipped by its p (kept, switched off). */
  pixel(name: string, params: number[] | null, count: number): void {
    const on = params !== null;
    if (on && params.length !== count) throw new Error(`pixel op ${name}: ${params.length} parameters, its renderers read ${count}`);
    this.stages[this.stages.length - 1].ops.push({ name, params: on ? [1, ...params] : new Array(count + 1).fill(0) });
  }

  /** A copy to continue separately (the grid tasks: one per patch after the whole-image ops). */
  clone(): ViewBuilder {
    return new ViewBuilder(this.image, this.plan().stages);
  }

  plan(): ViewPlan {
    return { source: this.image.size, stages: this.stages.map((s) => ({ size: s.size, map: [...s.map] as Affine, ops: s.ops.map((o) => ({ name: o.name, params: [...o.params] })) })) };
  }
}
