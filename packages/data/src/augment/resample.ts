/**
 * Bilinear sampling of a grey uint8 image at (y, x) in pixel coordinates (pixel centres at
 * integers), with coordinates clamped to the rows [top, bottom] and columns [left, right]: outside
 * points take the value of the nearest edge pixel (replicate padding), so no black border appears.
 */
export function bilinear(
  src: Uint8Array,
  size: number,
  y: number,
  x: number,
  top = 0,
  left = 0,
  bottom = size - 1,
  right = size - 1,
): number {
  const cy = Math.min(bottom, Math.max(top, y));
  const cx = Math.min(right, Math.max(left, x));
  const y0 = Math.floor(cy);
  const x0 = Math.floor(cx);
  const y1 = Math.min(bottom, y0 + 1);
  const x1 = Math.min(right, x0 + 1);
  const fy = cy - y0;
  const fx = cx - x0;
  const a = src[y0 * size + x0] + (src[y0 * size + x1] - src[y0 * size + x0]) * fx;
  const b = src[y1 * size + x0] + (src[y1 * size + x1] - src[y1 * size + x0]) * fx;
  return a + (b - a) * fy;
}

/** A uniform draw in [lo, hi). */
export function uniform(next: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * next();
}
