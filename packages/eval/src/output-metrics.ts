import { auc, type Labels, type Scores } from './metrics.ts';

/**
 * Metrics of rows that score several outputs per test image (classes one-vs-rest, findings), their
 * labels and scores row-major (image i, output k at i * width + k), as results rows store them.
 */

/** Output `k` of every image. */
export function column(values: ArrayLike<number>, width: number, k: number): Float64Array {
  const n = values.length / width;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = values[i * width + k];
  return out;
}

/** Positives of output k. */
export function positives(labels: Labels, width: number, k: number): number {
  let p = 0;
  for (let i = k; i < labels.length; i += width) p += labels[i] === 1 ? 1 : 0;
  return p;
}

/** AUC of output k, or undefined when the images have only one class for it (no positive or no negative). */
export function outputAuc(labels: Labels, scores: Scores, width: number, k: number): number | undefined {
  const pos = positives(labels, width, k);
  if (pos === 0 || pos === labels.length / width) return undefined;
  return auc(column(labels, width, k), column(scores, width, k));
}

/**
 * Mean one-vs-rest AUC over the outputs that have both classes among these images (an output without
 * a positive has no AUC and is left out of the mean, here and in each bootstrap resample).
 */
export function macroAuc(width: number): (labels: Labels, scores: Scores) => number {
  return (labels, scores) => {
    let sum = 0;
    let defined = 0;
    for (let k = 0; k < width; k++) {
      const a = outputAuc(labels, scores, width, k);
      if (a === undefined) continue;
      sum += a;
      defined++;
    }
    if (defined === 0) throw new Error('macro AUC: no output has both a positive and a negative image');
    return sum / defined;
  };
}

/** AUC of every (image, output) pair pooled: the micro mean, weighted towards the frequent outputs. */
export const microAuc = (labels: Labels, scores: Scores) => auc(labels, scores);

/** Index of the largest of an image's outputs (the first of equals). */
function argmax(values: ArrayLike<number>, width: number, i: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (values[i * width + k] > values[i * width + best]) best = k;
  return best;
}

/** One class per image (softmax): the share whose largest score is their class. */
export function top1Accuracy(width: number): (labels: Labels, scores: Scores) => number {
  return (labels, scores) => {
    const n = labels.length / width;
    let right = 0;
    for (let i = 0; i < n; i++) right += labels[i * width + argmax(scores, width, i)] === 1 ? 1 : 0;
    return right / n;
  };
}

/** Several labels per image (sigmoid): the share of (image, output) pairs right at 0.5, i.e. 1 - Hamming loss. */
export const labelAccuracy = (labels: Labels, scores: Scores) => {
  let right = 0;
  for (let i = 0; i < labels.length; i++) right += (scores[i] >= 0.5 ? 1 : 0) === labels[i] ? 1 : 0;
  return right / labels.length;
};

/** Per output at its decision (argmax for one class per image, 0.5 for several): sensitivity and specificity, each undefined without positives / negatives. */
export function perOutputRates(labels: Labels, scores: Scores, width: number, oneClass: boolean): { sensitivity?: number; specificity?: number }[] {
  const n = labels.length / width;
  const c = Array.from({ length: width }, () => ({ tp: 0, fn: 0, tn: 0, fp: 0 }));
  for (let i = 0; i < n; i++) {
    const top = oneClass ? argmax(scores, width, i) : -1;
    for (let k = 0; k < width; k++) {
      const pred = oneClass ? k === top : scores[i * width + k] >= 0.5;
      const y = labels[i * width + k] === 1;
      if (y) pred ? c[k].tp++ : c[k].fn++;
      else pred ? c[k].fp++ : c[k].tn++;
    }
  }
  return c.map((x) => ({
    ...(x.tp + x.fn > 0 ? { sensitivity: x.tp / (x.tp + x.fn) } : {}),
    ...(x.tn + x.fp > 0 ? { specificity: x.tn / (x.tn + x.fp) } : {}),
  }));
}

/** The mean of the defined values. */
export const meanDefined = (xs: (number | undefined)[]) => {
  const d = xs.filter((x): x is number => x !== undefined);
  return d.length ? d.reduce((s, x) => s + x, 0) / d.length : 0;
};

/**
 * A resampling stratum per image for several outputs: one class per image keeps each class's count;
 * several per image keep the count of the images whose rarest output is each one (`none` for none),
 * so a rare finding keeps its positives in most resamples.
 */
export function outputStrata(labels: Labels, width: number, oneClass: boolean): Int32Array {
  const n = labels.length / width;
  const freq = Array.from({ length: width }, (_, k) => positives(labels, width, k));
  return Int32Array.from({ length: n }, (_, i) => {
    let best = -1;
    for (let k = 0; k < width; k++) {
      if (labels[i * width + k] !== 1) continue;
      if (oneClass) return k;
      if (best < 0 || freq[k] < freq[best]) best = k;
    }
    return best;
  });
}
