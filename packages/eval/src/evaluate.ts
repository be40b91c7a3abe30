import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { z } from 'zod';
import { bootstrapCI } from './bootstrap.ts';
import { type KnnOptions, knnScores } from './knn.ts';
import { type EpochLog, type FeatureSplit, type LinearOptions, trainLinearHead } from './linear.ts';
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
  protocol: z.string().optional(),
  n_train: z.number().int().nonnegative().optional(),
  seed: z.number().int().optional(),
  history: z.array(EpochLogSchema).optional(),
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
  const r = trainLinearHead({ dim: input.dim, train, val, test, options: input.options, onEpoch: input.onEpoch });
  const seed = input.options?.seed ?? 0;
  return ResultRow.parse({
    init: input.init,
    size: input.size,
    ...scoreRow(test.labels, r.testProbs!, { n: input.bootstrap ?? 1000, seed }),
    protocol: 'linear',
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

/** Cosine kNN probe on the same features: a row with protocol `knn-<k>`. */
export function knnEvaluation(input: KnnEvaluationInput): ResultRow {
  const { train, test } = input.features;
  const k = input.options?.k ?? 20;
  const scores = knnScores(input.dim, train, test, input.options);
  const seed = input.seed ?? 0;
  return ResultRow.parse({
    init: input.init,
    size: input.size,
    ...scoreRow(test.labels, scores, { n: input.bootstrap ?? 1000, seed }),
    protocol: `knn-${k}`,
    n_train: train.labels.length,
    seed,
  });
}
