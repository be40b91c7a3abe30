import type { z } from 'zod';
import type { Rng } from '../types.ts';
import type { ViewBuilder } from './plan.ts';

/** The TypeScript renderer of a pixel op; cxr_torch/render/<name>.py is its torch twin, same parameters. */
export interface PixelRenderer {
  /** parameter names, in the order the plan holds them (after the on/off flag) */
  params: readonly string[];
  /** paints the op in place on a size x size view of grey levels (floats in [0, 255], kept so) */
  render(view: Float64Array, size: number, params: readonly number[]): void;
}

/**
 * One augmentation: its options (each with its one default), its plan function (draws from the rng
 * after the generic `p` draw, and adds itself to the view's plan) and, for a pixel op, its renderer.
 * A geometric op needs no renderer of its own: it is a map, and maps are painted by the shared
 * bilinear sampler of each engine.
 */
export interface Augmentation<S extends z.ZodType<{ name: string; p: number }> = z.ZodType<{ name: string; p: number }>> {
  options: S;
  plan(view: ViewBuilder, rng: Rng, o: z.infer<S>): void;
  pixels?: PixelRenderer;
}

/** An augmentation, typed by its options schema. */
export function augmentation<S extends z.ZodType<{ name: string; p: number }>>(a: Augmentation<S>): Augmentation<S> {
  return a;
}

/** A uniform draw in [lo, hi). */
export function uniform(next: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * next();
}
