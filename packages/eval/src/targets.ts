import { CACHE_VERSION, type Manifest, type ManifestEntry } from '@cxr-ssl/data';
import { z } from 'zod';
import { EvalInputError } from './identity.ts';

/**
 * What an evaluation predicts. `abnormal` is the study's task (normal vs abnormal, the default);
 * `classes` one class per image (Kermany's NORMAL, bacteria, virus), a softmax over them;
 * `findings` any number of findings per image (NIH's 14), a sigmoid per finding. A row is scored
 * per output (one-vs-rest for classes) and by the macro and micro means of the outputs.
 */
export const TARGET_NAMES = ['abnormal', 'classes', 'findings'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
export const TargetOption = z
  .enum(TARGET_NAMES)
  .default('abnormal')
  .describe("what to predict: abnormal (normal vs abnormal, the study's) | classes (one class per image, softmax) | findings (several per image, a sigmoid each)");

/** How a probe's outputs are trained: one class per image (softmax) or a sigmoid per output. */
export type TargetHead = { kind: 'softmax'; classes: string[]; scored: number[] } | { kind: 'sigmoid' };

/** A target as probes and metrics need it: the scored outputs and the head that makes them. */
export interface Target {
  name: TargetName;
  /** the scored outputs in order: ['abnormal'], the class names, the finding names */
  outputs: string[];
  /** softmax: `classes` is the head's width and `scored` which of its columns are the outputs (abnormal: column 1 of normal, abnormal) */
  head: TargetHead;
}

/** The label a finding-free image has in the fraction strata. */
export const NO_FINDING = 'none';

/** The target's labels of a prepared data set's images (cache rows). */
export interface TargetLabels {
  target: Target;
  /** what a probe trains on: a class index per row (softmax), or row-major 0/1 per row and output (sigmoid) */
  labels(rows: readonly number[]): Int32Array;
  /** the outputs' truth, row-major rows x outputs, 0/1 */
  truth(rows: readonly number[]): Uint8Array;
  /** an image's labels for the fraction strata: its class, or its findings (`none` when it has none) */
  strata(row: number): string[];
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
const BINARY = ['normal', 'abnormal'];

/** The binary target of the study: what rows of results files before targets were scored on. */
export const ABNORMAL: Target = { name: 'abnormal', outputs: ['abnormal'], head: { kind: 'softmax', classes: BINARY, scored: [1] } };

function abnormalLabels(entries: readonly ManifestEntry[]): TargetLabels {
  return {
    target: ABNORMAL,
    labels: (rows) => Int32Array.from(rows, (r) => entries[r].label),
    truth: (rows) => Uint8Array.from(rows, (r) => entries[r].label),
    strata: (row) => [BINARY[entries[row].label]],
  };
}

function classLabels(entries: readonly ManifestEntry[], where: string): TargetLabels {
  const without = entries.find((e) => e.class === undefined);
  if (without) {
    throw new EvalInputError(
      `--target classes: ${where} keeps no class for image ${without.id}: prepare it again with cxr-ssl prepare --force (a folder per class, Kermany's file names, or a CSV 'class' column give one)`,
    );
  }
  const classes = sorted(entries.map((e) => e.class!));
  if (classes.length < 2) throw new EvalInputError(`--target classes: ${where} has one class (${classes[0]}): there is nothing to tell apart`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return {
    target: { name: 'classes', outputs: classes, head: { kind: 'softmax', classes, scored: classes.map((_, i) => i) } },
    labels: (rows) => Int32Array.from(rows, (r) => index.get(entries[r].class!)!),
    truth: (rows) => {
      const y = new Uint8Array(rows.length * classes.length);
      rows.forEach((r, i) => {
        y[i * classes.length + index.get(entries[r].class!)!] = 1;
      });
      return y;
    },
    strata: (row) => [entries[row].class!],
  };
}

function findingLabels(entries: readonly ManifestEntry[], where: string): TargetLabels {
  const without = entries.find((e) => e.findings === undefined);
  if (without) {
    throw new EvalInputError(
      `--target findings: ${where} keeps no findings for image ${without.id}: prepare a set whose source has them (the nih adapter, or a CSV 'findings' column with '|' between findings), with --force if it was prepared before`,
    );
  }
  const findings = sorted(entries.flatMap((e) => e.findings!));
  if (findings.length === 0) throw new EvalInputError(`--target findings: no image of ${where} has a finding: there is nothing to predict`);
  const index = new Map(findings.map((f, i) => [f, i]));
  const truth = (rows: readonly number[]) => {
    const y = new Uint8Array(rows.length * findings.length);
    rows.forEach((r, i) => {
      for (const f of entries[r].findings!) y[i * findings.length + index.get(f)!] = 1;
    });
    return y;
  };
  return {
    target: { name: 'findings', outputs: findings, head: { kind: 'sigmoid' } },
    labels: (rows) => Int32Array.from(truth(rows)),
    truth,
    strata: (row) => (entries[row].findings!.length > 0 ? entries[row].findings! : [NO_FINDING]),
  };
}

/** The labels of `target` in a prepared set's manifest (`where` names it in errors). Outputs come from every split, so train and test agree on them. */
export function targetLabels(name: TargetName, manifest: Pick<Manifest, 'version' | 'entries'>, where: string): TargetLabels {
  if (name === 'abnormal') return abnormalLabels(manifest.entries);
  if (manifest.version < CACHE_VERSION) {
    throw new EvalInputError(
      `--target ${name}: ${where} was prepared by cache version ${manifest.version}, which keeps no class structure: prepare it again with cxr-ssl prepare ... --force (it then keeps each image's class and findings)`,
    );
  }
  return name === 'classes' ? classLabels(manifest.entries, where) : findingLabels(manifest.entries, where);
}
