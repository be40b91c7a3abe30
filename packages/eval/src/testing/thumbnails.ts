import type { FeatureSplit } from '../linear.ts';
import type { FixtureImages } from '@cxr-ssl/data/testing';

/**
 * Cheap label-carrying features for head tests: a T x T average-pooled thumbnail of each real
 * fixture image, optionally mirrored left-right (a chest X-ray's heart side makes a mirror
 * detectable, which gives a second, exactly known label on held-out images).
 */
export function thumbnail(px: Uint8Array, size: number, t: number, mirror = false): Float32Array {
  const f = size / t;
  const out = new Float32Array(t * t);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const xx = mirror ? size - 1 - x : x;
      out[Math.floor(y / f) * t + Math.floor(xx / f)] += px[y * size + x] / (f * f);
    }
  }
  return out;
}

/** Features of `indices`: the diagnosis label, or (mode 'mirror') each image twice, label = mirrored. */
export function thumbnailSplit(fx: FixtureImages, indices: number[], mode: 'diagnosis' | 'mirror', t = 8): FeatureSplit {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (const i of indices) {
    if (mode === 'diagnosis') {
      rows.push(thumbnail(fx.image(i), fx.size, t));
      labels.push(fx.labels[i]);
    } else {
      rows.push(thumbnail(fx.image(i), fx.size, t), thumbnail(fx.image(i), fx.size, t, true));
      labels.push(0, 1);
    }
  }
  const features = new Float32Array(rows.length * t * t);
  for (let k = 0; k < rows.length; k++) features.set(rows[k], k * t * t);
  return { features, labels: Int32Array.from(labels) };
}
