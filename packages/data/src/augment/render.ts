import type { Image } from '../types.ts';
import type { PixelRenderer } from './augmentation.ts';
import type { Affine, Stage, ViewPlan } from './plan.ts';
import { PIXEL_OPS } from './pixel-ops.ts';

/**
 * The TypeScript renderer: paints a view plan (plan.ts) in float64, one stage after the other, and
 * rounds once at the end. It is what the tfjs engine and the TypeScript sampling threads use, and the
 * reference the torch renderer (cxr_torch/render) is checked against (packages/torch/src/render-parity.test.ts).
 */

/**
 * Bilinear resampling of `src` (side n) at the points of `map` for an out x out view; coordinates are
 * clamped to [0, n - 1] first (edges replicated: grid_sample's padding_mode 'border').
 */
export function sampleAffine(src: ArrayLike<number>, n: number, map: Affine, out: number): Float64Array {
  const [a, b, c, d, e, f] = map;
  const last = n - 1;
  const dst = new Float64Array(out * out);
  const clamp = (v: number) => Math.min(last, Math.max(0, v));
  if (a === 1 && e === 1 && b === 0 && d === 0 && Number.isInteger(c) && Number.isInteger(f) && c >= 0 && f >= 0 && c + out <= n && f + out <= n) {
    // a patch cut at whole pixels (the grid tasks): a copy
    for (let i = 0; i < out; i++) for (let j = 0; j < out; j++) dst[i * out + j] = src[(c + i) * n + f + j];
    return dst;
  }
  if (b === 0 && d === 0) {
    // no rotation: rows and columns are separable, so the column taps are computed once
    const x0 = new Int32Array(out);
    const x1 = new Int32Array(out);
    const fx = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      const x = clamp(e * j + f);
      x0[j] = Math.floor(x);
      x1[j] = Math.min(last, x0[j] + 1);
      fx[j] = x - x0[j];
    }
    for (let i = 0; i < out; i++) {
      const y = clamp(a * i + c);
      const r0 = Math.floor(y);
      const fy = y - r0;
      const o0 = r0 * n;
      const o1 = Math.min(last, r0 + 1) * n;
      for (let j = 0; j < out; j++) {
        const top = src[o0 + x0[j]] + (src[o0 + x1[j]] - src[o0 + x0[j]]) * fx[j];
        const bottom = src[o1 + x0[j]] + (src[o1 + x1[j]] - src[o1 + x0[j]]) * fx[j];
        dst[i * out + j] = top + (bottom - top) * fy;
      }
    }
    return dst;
  }
  for (let i = 0; i < out; i++)
    for (let j = 0; j < out; j++) {
      const y = clamp(a * i + b * j + c);
      const x = clamp(d * i + e * j + f);
      const r0 = Math.floor(y);
      const c0 = Math.floor(x);
      const o0 = r0 * n;
      const o1 = Math.min(last, r0 + 1) * n;
      const c1 = Math.min(last, c0 + 1);
      const fx = x - c0;
      const top = src[o0 + c0] + (src[o0 + c1] - src[o0 + c0]) * fx;
      const bottom = src[o1 + c0] + (src[o1 + c1] - src[o1 + c0]) * fx;
      dst[i * out + j] = top + (bottom - top) * (y - r0);
    }
  return dst;
}

function renderStage(src: ArrayLike<number>, n: number, stage: Stage): Float64Array {
  const view = sampleAffine(src, n, stage.map, stage.size);
  for (const op of stage.ops) {
    if (op.params[0] === 0) continue; // skipped by its p
    const pixels = (PIXEL_OPS as Record<string, { pixels?: PixelRenderer }>)[op.name]?.pixels;
    if (!pixels) throw new Error(`view plan: '${op.name}' is not a pixel op of this renderer (augment/pixel-ops.ts)`);
    pixels.render(view, stage.size, op.params.slice(1));
  }
  return view;
}

/** The view's grey levels before the final rounding. */
export function renderFloat(plan: ViewPlan, image: Image): Float64Array {
  if (image.size !== plan.source) throw new Error(`view plan: made for a ${plan.source} px image, given one of ${image.size} px`);
  let src: ArrayLike<number> = image.pixels;
  let n = image.size;
  for (const stage of plan.stages) {
    src = renderStage(src, n, stage);
    n = stage.size;
  }
  return src instanceof Float64Array ? src : Float64Array.from(src);
}

/** Paints one view: uint8, rounded half up (as floor(v + 0.5) in torch). */
export function renderView(plan: ViewPlan, image: Image, out?: Uint8Array): Uint8Array {
  const v = renderFloat(plan, image);
  const dst = out ?? new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) dst[i] = Math.round(Math.min(255, Math.max(0, v[i])));
  return dst;
}
