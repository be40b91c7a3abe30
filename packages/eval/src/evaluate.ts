import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { z } from 'zod';
import { bootstrapCI } from './bootstrap.ts';
import { ReliabilityBin } from './calibration.ts';
import { FeatureHealth } from './feature-health.ts';
import { OperatingPoint } from './operating-points.ts';
import { STUDY_PROTOCOL } from './protocols/index.ts';
import { TARGET_NAMES } from './targets.ts';
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
  /** where pretraining started: 'random', or the weights file it continued from */
  init: z.string().optional(),
  /** the last held-out pass (metrics.jsonl): the method's top-1 and its chance level */
  valAccuracy: z.number().optional(),
  valChance: z.number().optional(),
  /** and its collapse measure: the spread (~1 healthy, 0 collapsed) and effective rank of the method's embedding */
  valSpread: z.number().optional(),
  valRank: z.number().optional(),
  /** the run's warnings (collapse, a loss at chance) still standing at its last held-out pass (metrics.jsonl) */
  warnings: z.array(z.string()).optional(),
  /** the run's optimiser settings as its config.json has them (lr, momentum, decay, ...) */
  optimizer: z.record(z.string(), z.unknown()).optional(),
});
export type PretextInfo = z.infer<typeof PretextInfo>;

const Diff = z.object({ diff: z.number(), ci: z.tuple([z.number(), z.number()]) });
/** this row minus the reference row, with a paired bootstrap 95% CI */
export const PairedDiff = z.object({ accuracy: Diff, auc: Diff });
export type PairedDiff = z.infer<typeof PairedDiff>;

/**
 * One scored output of a row (abnormal; a class, one-vs-rest; a finding): its AUC, the operating
 * points chosen on val and reported on test, calibration, and its AUC difference to each reference.
 */
export const OutputScore = z.object({
  name: z.string().min(1),
  /** test images positive for it */
  n_pos: z.number().int().nonnegative(),
  /** absent when the test split has only one class for it */
  auc: Rate.optional(),
  ci: Interval.optional(),
  /** sensitivity at 90/95 % specificity and the reverse, thresholds from the val split (absent without one) */
  operating: z.array(OperatingPoint).optional(),
  /** expected calibration error of P(output) on test, 10 equal-width bins */
  ece: Rate.optional(),
  /** the reliability diagram: non-empty bins, mean prediction against share positive */
  reliability: z.array(ReliabilityBin).optional(),
  /** AUC of this row minus the reference row's, for this output, paired bootstrap 95% CI (by reference method) */
  paired: z.record(z.string(), Diff).optional(),
});
export type OutputScore = z.infer<typeof OutputScore>;

/**
 * One row of the results table: one encoder, evaluated at one image size under one protocol, label
 * fraction and seed. The encoder is its identity (`label`, `weights_sha256`): rows, pairings, tables and
 * plots are keyed by it, never by `method`, so two runs of one method stay two rows. Rates are
 * fractions in [0, 1] (the report prints percentages). `majority_accuracy` is the test split's
 * majority-class share: the accuracy to beat.
 */
export const ResultRow = z.object({
  /** the encoder's name in this evaluation: its run folder's name, a built-in name (random, random-bn, imagenet) or a --label */
  label: z.string().min(1),
  /** how the encoder was made: its pretext method, or the built-in it is */
  method: z.string().min(1),
  /** sha256 of the encoder's weights (names, shapes, values); absent in rows of results files before version 2 */
  weights_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** the label of the encoder this one is a variant of: compared with it (ΔD) */
  base: z.string().optional(),
  /** the encoder's architecture (a name of ENCODERS): a baseline row has that of the runs beside it */
  encoder: z.string().optional(),
  size: z.number().int().positive(),
  /** a name of PROTOCOLS */
  protocol: z.string().min(1),
  /** what was predicted (absent in rows before targets: abnormal) */
  target: z.enum(TARGET_NAMES).optional(),
  /** share of the labelled train split used (drawn by drawFractions; 1 = all of it) */
  fraction: z.number().gt(0).max(1),
  seed: z.number().int(),
  /** abnormal: at 0.5; classes: top-1; findings: per (image, finding) at 0.5 */
  accuracy: Rate,
  /** abnormal: AUC; classes and findings: the mean of the outputs' AUCs (macro) */
  auc: Rate,
  /** classes and findings: AUC of every (image, output) pair pooled */
  micro_auc: Rate.optional(),
  /** classes and findings: the mean of the outputs' (at the decision: top-1, or 0.5) */
  balanced_accuracy: Rate,
  sensitivity: Rate,
  specificity: Rate,
  majority_accuracy: Rate,
  n_test: z.number().int().positive(),
  /** 95% percentile bootstrap intervals (stratified by class) */
  ci: z.object({ accuracy: Interval, auc: Interval }),
  /** [fpr, tpr] points, thinned to at most 101 */
  roc: z.array(z.tuple([Rate, Rate])),
  /** the protocol's options (k, epochs, lr, ...): a reused row must have been made with the same */
  options: z.record(z.string(), z.unknown()).optional(),
  n_train: z.number().int().nonnegative().optional(),
  history: z.array(EpochLogSchema).optional(),
  /** the evaluation's data set (transfer: may differ from pretext.data) */
  data: z.string().optional(),
  /** where the encoder came from, when it is a pretext run */
  pretext: PretextInfo.optional(),
  /** each output (P(abnormal); P(class); P(finding)) per test image, row-major in test-split order: what paired comparisons resample */
  scores: z.array(Rate).optional(),
  /** the outputs' truth as a string of '0'/'1', same order as scores */
  test_labels: z.string().regex(/^[01]*$/).optional(),
  /** per output: AUC, operating points, calibration, paired differences */
  outputs: z.array(OutputScore).optional(),
  /** a frozen protocol's row: how usable the encoder's train features were (share constant, dead, scale) */
  feature_health: FeatureHealth.optional(),
  /** differences to the reference encoders (by method: random, random-bn, imagenet) on the same test images (same size, protocol, fraction, seed) */
  paired: z.record(z.string(), PairedDiff).optional(),
});
export type ResultRow = z.infer<typeof ResultRow>;

/**
 * A row as results files before version 2 wrote it: `init` named the method (or `<method>+<label>` for
 * a variant of it) and was the key; protocol, fraction and seed could be absent (the study's protocol, 1, 0).
 */
const RowV1 = ResultRow.omit({ label: true, method: true, protocol: true, fraction: true, seed: true }).extend({
  init: z.string().min(1),
  protocol: z.string().default(STUDY_PROTOCOL),
  fraction: z.number().gt(0).max(1).default(1),
  seed: z.number().int().default(0),
});

/** A row of either version, as a version-2 row: an old row's `init` becomes its label and (before any '+') its method. */
export function parseRow(raw: unknown): ResultRow {
  if (raw && typeof raw === 'object' && 'label' in raw) return ResultRow.parse(raw);
  const { init, ...row } = RowV1.parse(raw);
  const plus = init.indexOf('+');
  return ResultRow.parse({ ...row, label: init, method: plus > 0 ? init.slice(0, plus) : init, ...(plus > 0 ? { base: init.slice(0, plus) } : {}) });
}

export const RESULTS_VERSION = 3;
export const ResultsFile = z.object({
  version: z.literal(RESULTS_VERSION),
  /** ISO 8601 timestamp */
  created: z.string().min(1),
  rows: z.array(ResultRow),
});
export type ResultsFile = z.infer<typeof ResultsFile>;

/** A results.json of this version or of versions 1 and 2 (version 2 rows are this version's without targets: abnormal; version 1 rows upgraded by parseRow). */
export function readResultsFile(path: string): ResultsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read results JSON (${(err as Error).message}); re-run the evaluation`);
  }
  const parsed = z.object({ version: z.union([z.literal(1), z.literal(2), z.literal(RESULTS_VERSION)]), created: z.string().min(1), rows: z.array(z.unknown()) }).safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: not a valid results file: ${z.prettifyError(parsed.error)}`);
  try {
    return { version: RESULTS_VERSION, created: parsed.data.created, rows: parsed.data.rows.map(parseRow) };
  } catch (err) {
    throw new Error(`${path}: not a valid results file: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`);
  }
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
): Pick<ResultRow, 'accuracy' | 'auc' | 'balanced_accuracy' | 'sensitivity' | 'specificity' | 'majority_accuracy' | 'n_test' | 'ci' | 'roc' | 'scores' | 'test_labels'> {
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

