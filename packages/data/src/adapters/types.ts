import type { z } from 'zod';

export type Split = 'train' | 'val' | 'test';

/** One image of a data set as an adapter found it (before decoding). */
export interface Entry {
  /** unique within the data set, stable across runs (e.g. the path relative to the root) */
  id: string;
  /** absolute path of the image file */
  path: string;
  /** 0 = normal ('No Finding', NORMAL), 1 = abnormal */
  label: 0 | 1;
  /** its one class when the source has several (Kermany: NORMAL, bacteria, virus) */
  class?: string;
  /** its findings when the source has several per image (NIH: Cardiomegaly, Effusion, ...; [] = none) */
  findings?: string[];
  /** the source's own split; undefined = part of the training pool */
  split?: Split;
  /** patient id when known: validation is carved out by patient */
  patient?: string;
}

/** Something wrong with the source that does not stop the scan (bad CSV row, unknown class). */
export interface Problem {
  /** file (and row) where it was found */
  where: string;
  message: string;
  /** what kind of problem, for counting them (e.g. 'unknown split', 'duplicate path with another label') */
  kind?: string;
}

/**
 * Source problems counted by kind with their first examples, one line per kind: what prepare prints
 * on stderr, so no dropped row goes unnoticed.
 */
export function problemReport(problems: readonly Problem[], examples = 3): string {
  const byKind = new Map<string, Problem[]>();
  for (const p of problems) {
    const kind = p.kind ?? 'other';
    byKind.set(kind, [...(byKind.get(kind) ?? []), p]);
  }
  return [...byKind]
    .map(([kind, list]) => `  ${list.length} × ${kind}, e.g. ${list.slice(0, examples).map((p) => `${p.where}: ${p.message}`).join('; ')}`)
    .join('\n');
}

export interface ScanResult {
  entries: Entry[];
  problems: Problem[];
}

/**
 * Turns a data set on disk into entries. `root` is what the user points at (a folder, a CSV
 * file, the NIH folder holding images/ + Data_Entry_2017.csv + the official split lists);
 * `options` (zod) are adapter-specific and validated before `scan` is called.
 */
export interface DatasetAdapter<O = unknown> {
  name: string;
  options: z.ZodType<O>;
  scan(root: string, opts: O): Promise<ScanResult>;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.dcm'];

/** Class names that mean "normal" unless an adapter is told otherwise (case-insensitive). */
export const DEFAULT_NORMAL_CLASSES = ['NORMAL', 'No Finding'];

export function isNormalClass(name: string, normal: readonly string[]): boolean {
  const n = name.trim().toLowerCase();
  return normal.some((c) => c.toLowerCase() === n);
}
