import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { z } from 'zod';
import { bootstrapCI } from './bootstrap.ts';
import { KnnOptions, knnScores } from './knn.ts';
import { type EpochLog, type FeatureSplit, LinearOptions, trainLinearHead } from './linear.ts';
import {
  accuracy,
  auc,
  balancedAccuracy,
  majorityAccuracy,
  rocCurve,
  sensitivity,
  specificity,
  thinRoc,
} from './metrics.ts';

const Rate = z.number().min(0).max(1);
const Interval = z.tuple([Rate, Rate]);

export const EpochLogSchema = z.object({
  epoch: z.number().int().positive(),
  trainLoss: z.number(),
  trainAccuracy: Rate,
  valLoss: z.number().optional(),
  valAccuracy: Rate.optional(),
});

export const PretextInfo = z.object({
  run: z.string(),
  task: z.string(),
  /** the data set the pretext task was trained on */
  data: z.string(),
  size: z.number().int().positive().optional(),
  /** held-out pretext accuracy at the last epoch (metrics.jsonl) */
  valAccuracy: z.number().optional(),
  /** the run's optimiser settings as its config.json has them (lr, momentum, decay, ...) */
  optimizer: z.record(z.string(), z.unknown()).optional(),
});
export type PretextInfo = z.infer<typeof PretextInfo>;

const Diff = z.object({ diff: z.number(), ci: z.tuple([z.number(), z.number()]) });
/** this row minus the reference row, with a paired bootstrap 95% CI */
export const PairedDiff = z.object({ accuracy: Diff, auc: Diff });
export type PairedDiff = z.infer<typeof PairedDiff>;

/**
 * One row of the results table: an encoder initialisation (`imagenet`, `random`, `context`, ...)
 * evaluated at one image size. Rates are fractions in [0, 1] (the report prints percentages).
 * `majority_accuracy` is the test split's majority-class share: the accuracy to beat.
 */
export const ResultRow = z.object({
  init: z.string().min(1),
  size: z.number().int().positive(),
  accuracy: Rate,
  auc: Rate,
  balanced_accuracy: Rate,
  sensitivity: Rate,
  specificity: Rate,
  majority_accuracy: Rate,
  n_test: z.number().int().positive(),
  /** 95% percentile bootstrap intervals (stratified by class) */
  ci: z.object({ accuracy: Interval, auc: Interval }),
  /** [fpr, tpr] points, thinned to at most 101 */
  roc: z.array(z.tuple([Rate, Rate])),
  // optional extras (older rows may lack them)
  /** linear | knn | finetune (rows without one are linear) */
  protocol: z.string().optional(),
  /** the protocol's options (k, epochs, lr, ...): a reused row must have been made with the same */
  options: z.record(z.string(), z.unknown()).optional(),
  /** share of the labelled train split used (drawn by drawFractions; 1 = all of it) */
  fraction: z.number().gt(0).max(1).optional(),
  n_train: z.number().int().nonnegative().optional(),
  seed: z.number().int().optional(),
  history: z.array(EpochLogSchema).optional(),
  /** the evaluation's data set (transfer: may differ from pretext.data) */
  data: z.string().optional(),
  /** the encoder's architecture (a name of ENCODERS): a baseline row has that of the runs beside it */
  encoder: z.string().optional(),
  /** where the encoder came from, when it is a pretext run */
  pretext: PretextInfo.optional(),
  /** P(abnormal) per test image, in test-split order: what paired comparisons resample */
  scores: z.array(Rate).optional(),
  /** test labels as a string of '0'/'1', same order as scores */
  test_labels: z.string().regex(/^[01]*$/).optional(),
  /** differences to other inits on the same test images (same size, protocol, fraction, seed) */
  paired: z.record(z.string(), PairedDiff).optional(),
});
export type ResultRow = z.infer<typeof ResultRow>;

export const RESULTS_VERSION = 1;
export const ResultsFile = z.object({
  version: z.literal(RESULTS_VERSION),
  /** ISO 8601 timestamp */
  created: z.string().min(1),
  rows: z.array(ResultRow),
});
export type ResultsFile = z.infer<typeof ResultsFile>;

export function readResultsFile(path: string): ResultsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read results JSON (${(err as Error).message}); re-run the evaluation`);
  }
  const parsed = ResultsFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${path}: not a valid results file: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Validates and writes results.json atomically. */
export function writeResultsFile(path: string, rows: ResultRow[], created = new Date().toISOString()): ResultsFile {
  const file = ResultsFile.parse({ version: RESULTS_VERSION, created, rows });
  writeFileAtomic(path, `${JSON.stringify(file, null, 1)}\n`);
  return file;
}

/** Threshold metrics, AUC, CIs and ROC of test probabilities, as the common part of a row. */
export function scoreRow(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  bootstrap: { n?: number; seed: number },
): Omit<ResultRow, 'init' | 'size'> {
  return {
    accuracy: accuracy(labels, probs),
    auc: auc(labels, probs),
    balanced_accuracy: balancedAccuracy(labels, probs),
    sensitivity: sensitivity(labels, probs),
    specificity: specificity(labels, probs),
    majority_accuracy: majorityAccuracy(labels),
    n_test: labels.length,
    ci: {
      accuracy: bootstrapCI(accuracy, labels, probs, bootstrap),
      auc: bootstrapCI(auc, labels, probs, bootstrap),
    },
    roc: thinRoc(rocCurve(labels, probs)),
    scores: Array.from(probs, (p) => Math.round(p * 1e6) / 1e6),
    test_labels: Array.from(labels, (y) => (y === 1 ? '1' : '0')).join(''),
  };
}

export interface LinearEvaluationInput {
  /** features per split, rows x dim; labels 0 normal / 1 abnormal */
  features: { train: FeatureSplit; val?: FeatureSplit; test: FeatureSplit };
  dim: number;
  init: string;
  size: number;
  options?: LinearOptions;
  /** bootstrap resamples for the CIs (default 1000); the seed is the head's seed */
  bootstrap?: number;
  onEpoch?: (log: EpochLog) => void;
}

/** The study's protocol end to end: train the 2-layer head, score the test split. */
export function linearEvaluation(input: LinearEvaluationInput): ResultRow {
  const { train, val, test } = input.features;
  const opts = LinearOptions.parse(input.options ?? {});
  const r = trainLinearHead({ dim: input.dim, train, val, test, options: opts, onEpoch: input.onEpoch });
  const seed = opts.seed;
  return ResultRow.parse({
    init: input.init,
    size: input.size,
    ...scoreRow(test.labels, r.testProbs!, { n: input.bootstrap ?? 1000, seed }),
    protocol: 'linear',
    options: { epochs: opts.epochs, hidden: opts.hidden, lr: opts.lr, batchSize: opts.batchSize, weightDecay: opts.weightDecay },
    n_train: train.labels.length,
    seed,
    history: r.history,
  });
}

export interface KnnEvaluationInput {
  features: { train: FeatureSplit; test: FeatureSplit };
  dim: number;
  init: string;
  size: number;
  options?: KnnOptions;
  bootstrap?: number;
  seed?: number;
}

/** Cosine kNN probe on the same features: a row with protocol `knn`. */
export function knnEvaluation(input: KnnEvaluationInput): ResultRow {
  const { train, test } = input.features;
  const opts = KnnOptions.parse(input.options ?? {});
  const scores = knnScores(input.dim, train, test, opts);
  const seed = input.seed ?? 0;
  return ResultRow.parse({
    init: input.init,
    size: input.size,
    ...scoreRow(test.labels, scores, { n: input.bootstrap ?? 1000, seed }),
    protocol: 'knn',
    options: { k: opts.k, temperature: opts.temperature, standardise: opts.standardise },
    n_train: train.labels.length,
    seed,
  });
}
