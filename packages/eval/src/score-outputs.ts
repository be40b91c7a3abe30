import { bootstrapCI } from './bootstrap.ts';
import { expectedCalibrationError, reliabilityBins } from './calibration.ts';
import { type OutputScore, type ResultRow, scoreRow } from './evaluate.ts';
import { type Labels, type Scores, accuracy, auc, rocCurve, thinRoc } from './metrics.ts';
import { operatingPoints } from './operating-points.ts';
import { column, labelAccuracy, macroAuc, meanDefined, microAuc, outputStrata, perOutputRates, positives, top1Accuracy } from './output-metrics.ts';
import { pairedBootstrap } from './paired.ts';
import type { Target, TargetName } from './targets.ts';

type Metric = (labels: Labels, scores: Scores) => number;

/** How a row of a target is summed up in one number and resampled: its accuracy, AUC (macro for several outputs) and bootstrap strata. */
export interface RowMetrics {
  width: number;
  accuracy: Metric;
  auc: Metric;
  /** the resampling stratum of each test image (undefined: by its label, one output) */
  strata?: Int32Array;
}

/** The metrics of a target's rows, `width` outputs per test image (labels row-major). */
export function rowMetrics(target: TargetName | undefined, width: number, labels: Labels): RowMetrics {
  if (width === 1 && (target ?? 'abnormal') === 'abnormal') return { width, accuracy: (l, s) => accuracy(l, s), auc };
  const oneClass = target === 'classes';
  return { width, accuracy: oneClass ? top1Accuracy(width) : labelAccuracy, auc: macroAuc(width), strata: outputStrata(labels, width, oneClass) };
}

/** A split's truth and the probe's probabilities for it, row-major images x outputs. */
export interface Scored {
  truth: Labels;
  probs: Scores;
}

/**
 * Each output's AUC with its bootstrap CI, operating points (thresholds from `val`) and calibration.
 * An output with one class on the test split (no positive, or no negative) has no AUC; without a val
 * split, or one class on it, no operating point.
 */
export function scoreOutputs(target: Target, test: Scored, val: Scored | undefined, bootstrap: { n?: number; seed: number }): OutputScore[] {
  const width = target.outputs.length;
  return target.outputs.map((name, k) => {
    const y = column(test.truth, width, k);
    const p = column(test.probs, width, k);
    const nPos = positives(test.truth, width, k);
    const both = nPos > 0 && nPos < y.length;
    const bins = reliabilityBins(y, p);
    const ops = val && both ? operatingPoints({ labels: column(val.truth, width, k), scores: column(val.probs, width, k) }, { labels: y, scores: p }, bootstrap) : undefined;
    return {
      name,
      n_pos: nPos,
      ...(both ? { auc: auc(y, p), ci: bootstrapCI(auc, y, p, bootstrap) } : {}),
      ...(ops ? { operating: ops } : {}),
      ece: expectedCalibrationError(bins),
      reliability: bins,
    };
  });
}

/**
 * The summary fields of a row of several outputs (classes or findings), each defined as a binary
 * row's: accuracy (top-1 for classes; per (image, output) at 0.5 for findings), macro AUC with its
 * CI, macro sensitivity / specificity / balanced accuracy at the decision, the majority baseline of
 * that accuracy, the micro-averaged ROC and AUC.
 */
export function scoreSeveral(target: Target, test: Scored, bootstrap: { n?: number; seed: number }): Omit<ResultRow, 'label' | 'method' | 'size' | 'protocol' | 'fraction' | 'seed'> {
  const width = target.outputs.length;
  const oneClass = target.head.kind === 'softmax';
  const m = rowMetrics(target.name, width, test.truth);
  const n = test.truth.length / width;
  const rates = perOutputRates(test.truth, test.probs, width, oneClass);
  const sensitivity = meanDefined(rates.map((r) => r.sensitivity));
  const specificity = meanDefined(rates.map((r) => r.specificity));
  const shares = target.outputs.map((_, k) => positives(test.truth, width, k) / n);
  const boot = (metric: Metric) => pairedBootstrap(metric, test.truth, [test.probs], undefined, { ...bootstrap, width, strata: m.strata }).ci;
  return {
    target: target.name,
    accuracy: m.accuracy(test.truth, test.probs),
    auc: m.auc(test.truth, test.probs),
    micro_auc: microAuc(test.truth, test.probs),
    balanced_accuracy: oneClass ? sensitivity : (sensitivity + specificity) / 2,
    sensitivity,
    specificity,
    majority_accuracy: oneClass ? Math.max(...shares) : shares.reduce((s, x) => s + Math.max(x, 1 - x), 0) / width,
    n_test: n,
    ci: { accuracy: boot(m.accuracy), auc: boot(m.auc) },
    roc: thinRoc(rocCurve(test.truth, test.probs)),
    scores: Array.from(test.probs, (p) => Math.round(p * 1e6) / 1e6),
    test_labels: Array.from(test.truth, (y) => (y === 1 ? '1' : '0')).join(''),
  };
}


/** What a row of `target` records of its test (and val) predictions: the summary metrics and each output's. */
export function scoreTarget(target: Target, test: Scored, val: Scored | undefined, bootstrap: { n?: number; seed: number }): Omit<ResultRow, 'label' | 'method' | 'size' | 'protocol' | 'fraction' | 'seed'> {
  const summary = target.name === 'abnormal' ? scoreRow(test.truth, test.probs, bootstrap) : scoreSeveral(target, test, bootstrap);
  return { ...summary, target: target.name, outputs: scoreOutputs(target, test, val, bootstrap) };
}
