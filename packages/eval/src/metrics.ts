/**
 * Binary classification metrics for normal (0) vs abnormal (1). `scores` are the predicted
 * probability of the positive class (abnormal); a score >= threshold (default 0.5) predicts 1.
 * Every metric that is undefined for the input (no positives, no negatives, empty split) throws
 * with a message saying so rather than returning NaN into a results table.
 */

export type Labels = ArrayLike<number>;
export type Scores = ArrayLike<number>;

function checkPair(labels: Labels, scores: Scores, what: string): void {
  if (labels.length !== scores.length) {
    throw new Error(`${what}: ${labels.length} labels but ${scores.length} scores; pass one score per label`);
  }
  if (labels.length === 0) throw new Error(`${what}: empty split; there is nothing to evaluate`);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new Error(`${what}: label ${labels[i]} at row ${i}; labels must be 0 (normal) or 1 (abnormal)`);
    }
  }
}

export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export function confusion(labels: Labels, scores: Scores, threshold = 0.5): Confusion {
  checkPair(labels, scores, 'confusion');
  const c = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const pred = scores[i] >= threshold ? 1 : 0;
    if (labels[i] === 1) pred === 1 ? c.tp++ : c.fn++;
    else pred === 1 ? c.fp++ : c.tn++;
  }
  return c;
}

export function accuracy(labels: Labels, scores: Scores, threshold = 0.5): number {
  const c = confusion(labels, scores, threshold);
  return (c.tp + c.tn) / labels.length;
}

/** True positive rate: abnormal images called abnormal. */
export function sensitivity(labels: Labels, scores: Scores, threshold = 0.5): number {
  const c = confusion(labels, scores, threshold);
  if (c.tp + c.fn === 0) throw new Error('sensitivity: the split has no positive (abnormal) labels');
  return c.tp / (c.tp + c.fn);
}

/** True negative rate: normal images called normal. */
export function specificity(labels: Labels, scores: Scores, threshold = 0.5): number {
  const c = confusion(labels, scores, threshold);
  if (c.tn + c.fp === 0) throw new Error('specificity: the split has no negative (normal) labels');
  return c.tn / (c.tn + c.fp);
}

export function balancedAccuracy(labels: Labels, scores: Scores, threshold = 0.5): number {
  return (sensitivity(labels, scores, threshold) + specificity(labels, scores, threshold)) / 2;
}

/**
 * Accuracy of always predicting the split's own majority class: the score any constant
 * classifier can reach at best on this split (the baseline the study's accuracies must beat).
 */
export function majorityAccuracy(labels: Labels): number {
  if (labels.length === 0) throw new Error('majorityAccuracy: empty split');
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] === 1 ? 1 : 0;
  return Math.max(pos, labels.length - pos) / labels.length;
}

/** Indices of `scores` sorted by descending score (stable). */
function orderDesc(scores: Scores): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Area under the ROC curve by the Mann-Whitney rank statistic; tied scores get their mid-rank,
 * so a tie between a positive and a negative counts one half (same as the trapezoid ROC area).
 */
export function auc(labels: Labels, scores: Scores): number {
  checkPair(labels, scores, 'auc');
  // The same statistic counted pairwise: for each positive, the negatives below it plus half the
  // tied ones. Sorting each class as a typed array (native numeric sort, no comparator) makes the
  // report's bootstraps 3x faster than ranking all scores (tools/bench/paired-auc.ts), same result.
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] === 1 ? 1 : 0;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) {
    throw new Error(`auc: the split has only one class (${pos} positive, ${neg} negative); AUC needs both`);
  }
  const p = new Float64Array(pos);
  const q = new Float64Array(neg);
  for (let i = 0, a = 0, b = 0; i < labels.length; i++) {
    if (labels[i] === 1) p[a++] = scores[i];
    else q[b++] = scores[i];
  }
  p.sort();
  q.sort();
  let below = 0; // negatives < p[i]
  let upTo = 0; // negatives <= p[i]
  let sum = 0;
  for (let i = 0; i < pos; i++) {
    while (below < neg && q[below] < p[i]) below++;
    while (upTo < neg && q[upTo] <= p[i]) upTo++;
    sum += below + (upTo - below) / 2;
  }
  return sum / (pos * neg);
}

/**
 * ROC curve as [fpr, tpr] points from (0, 0) to (1, 1), one point per distinct score threshold
 * (tied scores move both rates at once, giving the diagonal segment the tie-aware AUC integrates).
 */
export function rocCurve(labels: Labels, scores: Scores): [number, number][] {
  checkPair(labels, scores, 'rocCurve');
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i];
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) throw new Error('rocCurve: the split has only one class; ROC needs both');
  const order = orderDesc(scores);
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]] === 1) tp++;
      else fp++;
      j++;
    }
    points.push([fp / neg, tp / pos]);
    i = j;
  }
  return points;
}

/**
 * Trims a ROC curve to at most `max` points for a results file, keeping both ends; the points
 * kept are evenly spread along the curve.
 */
export function thinRoc(points: [number, number][], max = 101): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]);
  return out;
}
