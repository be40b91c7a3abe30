import type { EncoderSpec, Weights } from '@cxr-ssl/models';
import type { z } from 'zod';
import type { ImageSource } from '../extract.ts';
import type { EpochLog, FeatureSplit, HeadKind } from '../linear.ts';
import type { Target, TargetName } from '../targets.ts';

/**
 * Rows of the prepared data set with their labels under the target: a class index per row (0 normal,
 * 1 abnormal for the study's task), or for a sigmoid target rows x outputs 0/1, row-major.
 */
export interface LabelledRows {
  rows: number[];
  labels: ArrayLike<number>;
}

/** The last layer a probe trains for a target: a softmax over its classes, or a sigmoid per output. */
export const headKind = (t: Target): HeadKind => (t.head.kind === 'softmax' ? { kind: 'softmax', classes: t.head.classes.length } : { kind: 'sigmoid', outputs: t.outputs.length });

/** A softmax head's probabilities (rows x classes) as the target's outputs (abnormal: the second class only). */
export function scoredOutputs(t: Target, probs: Float32Array): Float32Array {
  if (t.head.kind === 'sigmoid') return probs;
  const { classes, scored } = t.head;
  if (scored.length === classes.length) return probs;
  const rows = probs.length / classes.length;
  const out = new Float32Array(rows * scored.length);
  for (let i = 0; i < rows; i++) {
    for (const [k, c] of scored.entries()) out[i * scored.length + k] = probs[i * classes.length + c];
  }
  return out;
}

/** Frozen encoder features of the rows a protocol trains on, of the val split (when there is one) and of the test split. */
export interface FrozenFeatures {
  dim: number;
  train: FeatureSplit;
  val?: FeatureSplit;
  test: FeatureSplit;
}

/** A bar for long work: the CLI passes its own (cli-progress), tests nothing. */
export type Progress = (label: string, total: number) => { update(done: number, payload?: Record<string, string>): void; stop(): void };

/** Where and how a protocol runs: nothing here changes what a row measures. */
export interface Runtime {
  provider: 'auto' | 'cpu' | 'cuda';
  /** the torch Python (fine-tuning, torch features); default: the usual search */
  python?: string;
  /** a line for the user (stderr in the CLI; nothing when quiet) */
  log: (line: string) => void;
  progress: Progress;
}

/** What a protocol is given for one row: one encoder, one label fraction, one seed. */
export interface ProtocolRun<O> {
  options: O;
  /** the row's seed: the head's initialisation (the fraction draw was made with it too) */
  seed: number;
  /** what is predicted: the outputs and the head (softmax over classes, or a sigmoid per output) */
  target: Target;
  encoder: { label: string; spec: EncoderSpec; weights: () => Weights };
  images: ImageSource;
  train: LabelledRows;
  val?: LabelledRows;
  test: LabelledRows;
  /** the encoder's frozen features of train/val/test: extracted once per encoder and cached, shared by protocols */
  features: () => Promise<FrozenFeatures>;
  runtime: Runtime;
}

/**
 * The target's outputs per test row (P(abnormal); P(class) per class; P(finding) per finding), rows x
 * outputs row-major in test order, and the same for the val split where the protocol scores it
 * (operating points choose their thresholds there); the row is scored from them as for every protocol.
 */
export interface ProtocolOutput {
  probs: ArrayLike<number>;
  valProbs?: ArrayLike<number>;
  history?: EpochLog[];
}

/**
 * An evaluation protocol: its options (one schema: defaults, help text via `.describe()`, the CLI's
 * flags, reproduce's `eval.<name>:` block and what a row records) and how it scores one encoder.
 * One file per protocol under protocols/, one line in the registry (protocols/index.ts).
 */
export interface Protocol<S extends z.ZodObject = z.ZodObject> {
  /** one line for --help */
  summary: string;
  options: S;
  /** prepended to each option's flag (`ft-` -> --ft-lr); '' for the study's protocol and kNN */
  flagPrefix: string;
  /** flags named otherwise than prefix + kebab-case of the option (where that would collide with another) */
  flagNames?: Partial<Record<keyof z.infer<S> & string, string>>;
  /** options that choose how a row is computed, not what it measures: not recorded in the row, not compared on reuse */
  runtimeOptions?: readonly (keyof z.infer<S> & string)[];
  /** the targets it can predict (default: every one) */
  targets?: readonly TargetName[];
  run(input: ProtocolRun<z.infer<S>>): Promise<ProtocolOutput>;
}

export const defineProtocol = <S extends z.ZodObject>(p: Protocol<S>): Protocol<S> => p;
