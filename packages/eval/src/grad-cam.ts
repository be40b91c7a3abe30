import type { LinearHead } from './linear.ts';

/**
 * Grad-CAM (Selvaraju et al. 2017) of the linear-probe head (linear.ts: standardise -> dense + ReLU ->
 * dense -> 2 logits) at the encoder's last spatial map A [C, h, w], whose global average pool is the
 * feature vector f. Since f_k = mean_ij A_k(ij), dy/dA_k(ij) = (dy/df_k) / hw for every position, so
 * Grad-CAM's channel weights alpha_k = mean_ij dy/dA_k(ij) = (dy/df_k) / hw come from the head alone,
 * without autograd through the encoder: map(ij) = ReLU(sum_k alpha_k A_k(ij)).
 */

/** The head's logits for one feature row and the gradient of logit `cls` with respect to the features. */
export function headLogitGradient(head: LinearHead, f: Float32Array, cls: number): { logits: [number, number]; gradient: Float32Array } {
  const { dim, hidden: H, mean, invStd, w1, b1, w2, b2 } = head;
  if (f.length !== dim) throw new Error(`headLogitGradient: ${f.length} features, the head takes ${dim}`);
  const x = new Float32Array(dim);
  for (let d = 0; d < dim; d++) x[d] = (f[d] - mean[d]) * invStd[d];
  const logits: [number, number] = [b2[0], b2[1]];
  const back = new Float32Array(H); // dy_cls / dz1: W2[cls, k] where the ReLU passes
  for (let k = 0; k < H; k++) {
    let z = b1[k];
    for (let d = 0; d < dim; d++) z += w1[k * dim + d] * x[d];
    if (z <= 0) continue;
    logits[0] += w2[k] * z;
    logits[1] += w2[H + k] * z;
    back[k] = w2[cls * H + k];
  }
  const gradient = new Float32Array(dim);
  for (let k = 0; k < H; k++) {
    if (back[k] === 0) continue;
    for (let d = 0; d < dim; d++) gradient[d] += back[k] * w1[k * dim + d];
  }
  for (let d = 0; d < dim; d++) gradient[d] *= invStd[d];
  return { logits, gradient };
}

export interface GradCam {
  /** [h, w] Grad-CAM map, ReLU'd, not normalised */
  map: Float32Array;
  logits: [number, number];
  /** P(class 1: abnormal) */
  probability: number;
}

/** Grad-CAM of class `cls` for one image: its last map [C, h, w] (row-major) and its pooled features. */
export function gradCam(head: LinearHead, lastMap: Float32Array, shape: [number, number, number], features: Float32Array, cls: number): GradCam {
  const [C, h, w] = shape;
  if (lastMap.length !== C * h * w) throw new Error(`gradCam: a map of ${lastMap.length} values is not [${C}, ${h}, ${w}]`);
  if (C !== head.dim) throw new Error(`gradCam: the map has ${C} channels, the head takes ${head.dim} features`);
  const { logits, gradient } = headLogitGradient(head, features, cls);
  const hw = h * w;
  const map = new Float32Array(hw);
  for (let k = 0; k < C; k++) {
    const alpha = gradient[k] / hw;
    if (alpha === 0) continue;
    for (let p = 0; p < hw; p++) map[p] += alpha * lastMap[k * hw + p];
  }
  for (let p = 0; p < hw; p++) map[p] = Math.max(0, map[p]);
  const probability = 1 / (1 + Math.exp(logits[0] - logits[1]));
  return { map, logits, probability };
}
