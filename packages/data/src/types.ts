import type { Program, ViewPlan } from './augment/plan.ts';

/**
 * Contracts shared by every package. Kept small on purpose: samplers, batches and the RNG
 * are the seams between data preparation, the training engines and evaluation.
 */

/** A seeded pseudo-random source (see rng.ts). Deterministic for a given seed. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** The internal state, so a run can be resumed bit-exactly. */
  state(): number[];
}

/** One grey image of the dataset cache: S x S uint8, row-major. */
export interface Image {
  pixels: Uint8Array;
  size: number;
}

/**
 * One pretext sample: `views` uint8 patches of `patch` x `patch` pixels (row-major, view-major)
 * and the pretext label (none for methods whose views are their own targets, e.g. contrastive). Pixels stay uint8 all the way to the engine: normalisation happens
 * inside the model (see models/spec.ts `inputNorm`) so that the GPU path can ship raw bytes.
 */
export interface Sample {
  x: Uint8Array;
  y?: number;
}

/** Geometry of a task's samples for a given image size. */
export interface SampleShape {
  views: number;
  patch: number;
  /** multi-crop: smaller views after the `views` ones (DINO's local crops) */
  local?: { views: number; patch: number };
}

/**
 * One sample as planned: a plan per view (augment/plan.ts), the smaller views of a multi-crop method
 * after them, and the label. Painting it (samplers/task.ts paintSample, or the engine's renderer)
 * gives the Sample.
 */
export interface SamplePlan {
  views: ViewPlan[];
  local?: ViewPlan[];
  y?: number;
}

/** A pretext sampler: a pure function of (image, rng, options) -> the plans of its views. */
export interface Sampler<O = unknown> {
  name: string;
  /** Number of pretext classes for these options; absent when samples carry no label. */
  classes?(opts: O): number;
  shape(size: number, opts: O): SampleShape;
  plan(img: Image, rng: Rng, opts: O): SamplePlan;
}

/**
 * The views of a block (the whole views, or the local ones) as plans: every view of the block has
 * the same program, and `params` holds each view's numbers, view after view in sample-major order
 * ([B, views, width] float64: per stage its map, then per pixel op [on, ...parameters]).
 */
export interface PlanBlock {
  program: Program;
  width: number;
  params: Float64Array;
}

/** A batch's views not yet painted: one cache image per sample and the plans of its views. */
export interface PlannedViews {
  /** B x size x size uint8, the cache images the views are made from */
  images: Uint8Array;
  size: number;
  views: PlanBlock;
  local?: PlanBlock;
}

/**
 * A batch as the engines receive it: x is B x views x patch x patch uint8, y is B int32 labels
 * (absent when the method's samples carry none). Either painted (x) or planned (`planned`: the
 * engine's own renderer paints it on its device; batchViews() paints it here).
 */
export interface Batch {
  x?: Uint8Array;
  planned?: PlannedViews;
  y?: Int32Array;
  /** [B, views, patch, patch] */
  shape: [number, number, number, number];
  /**
   * Multi-crop: the shape of the smaller views, [B, localViews, p, p]. x then holds the whole
   * [B, views, patch, patch] block first and this block after it (a sample's x: its views, then its local views).
   */
  local?: [number, number, number, number];
}

/** A batch whose views are painted (what the tfjs engine computes on). */
export type PaintedBatch = Batch & { x: Uint8Array };
