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

/** A pretext sampler: a pure function of (image, rng, options). */
export interface Sampler<O = unknown> {
  name: string;
  /** Number of pretext classes for these options; absent when samples carry no label. */
  classes?(opts: O): number;
  shape(size: number, opts: O): SampleShape;
  sample(img: Image, rng: Rng, opts: O): Sample;
}

/**
 * A batch as the engines receive it: x is B x views x patch x patch uint8, y is B int32 labels
 * (absent when the method's samples carry none).
 */
export interface Batch {
  x: Uint8Array;
  y?: Int32Array;
  /** [B, views, patch, patch] */
  shape: [number, number, number, number];
  /**
   * Multi-crop: the shape of the smaller views, [B, localViews, p, p]. x then holds the whole
   * [B, views, patch, patch] block first and this block after it (a sample's x: its views, then its local views).
   */
  local?: [number, number, number, number];
}
