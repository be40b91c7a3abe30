import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { Problem } from './adapters/types.ts';

/**
 * NIH ChestX-ray14 metadata: Data_Entry_2017(_v2020).csv joined with the official
 * train_val_list.txt / test_list.txt. No images are touched here (see adapters/nih.ts).
 * Columns are found by name, so both header variants work: the 2017 file splits
 * 'OriginalImage[Width,Height]' into two columns and ends every line with an empty column.
 */

/** The 14 finding labels; 'No Finding' is the absence of all of them. */
export const NIH_FINDINGS = [
  'Atelectasis',
  'Cardiomegaly',
  'Consolidation',
  'Edema',
  'Effusion',
  'Emphysema',
  'Fibrosis',
  'Hernia',
  'Infiltration',
  'Mass',
  'Nodule',
  'Pleural_Thickening',
  'Pneumonia',
  'Pneumothorax',
] as const;
export const NIH_NO_FINDING = 'No Finding';

/** Newest first: the 2020 file corrects the 2017 one's patient ages. */
export const NIH_LABEL_FILES = ['Data_Entry_2017_v2020.csv', 'Data_Entry_2017.csv'];
export const NIH_SPLIT_FILES = { train: 'train_val_list.txt', test: 'test_list.txt' } as const;

export interface NihRecord {
  /** image file name, e.g. 00000001_000.png */
  image: string;
  label: 0 | 1;
  /** sorted finding labels; [] for 'No Finding' */
  findings: string[];
  /** Patient ID as a plain number string ('1' for 00000001) */
  patient: string;
  /** official split: train_val -> 'train' (val is carved out by patient later), test -> 'test' */
  split: 'train' | 'test';
}

const known = new Set<string>(NIH_FINDINGS);
const FINDING = `(?:${NIH_FINDINGS.join('|')})`;

/** Plain regex checks keep zod fast on 112,120 rows; the detailed message is built on failure. */
const Row = z.object({
  image: z.string().regex(/^\s*[\w.-]+\.png\s*$/i, 'Image Index must be a .png file name'),
  findings: z.string().regex(new RegExp(`^\\s*(?:${NIH_NO_FINDING}|${FINDING}(?:\\|${FINDING})*)\\s*$`), 'bad Finding Labels'),
  patient: z.string().regex(/^\s*\d+\s*$/, 'Patient ID must be a number'),
});

function findingsProblem(raw: string | undefined): string {
  const f = (raw ?? '').split('|').map((x) => x.trim());
  if (!raw?.trim()) return 'Finding Labels is empty';
  const bad = f.filter((x) => x !== NIH_NO_FINDING && !known.has(x));
  if (bad.length) return `unknown finding '${bad.join("', '")}' (expected ${NIH_NO_FINDING} or '|'-separated ${NIH_FINDINGS.join(', ')})`;
  return `'${NIH_NO_FINDING}' together with findings`;
}

export interface NihRow {
  image: string;
  /** sorted, unique; ['No Finding'] for normal images */
  findings: string[];
  /** Patient ID without leading zeros */
  patient: string;
  /** line of the CSV the row starts on */
  line: number;
}

const COLUMNS = { image: 'Image Index', findings: 'Finding Labels', patient: 'Patient ID' } as const;

/** Parses Data_Entry_2017(_v2020).csv. Bad rows become problems naming file:line; duplicates too. */
export function parseNihCsv(text: string, file: string): { rows: NihRow[]; problems: Problem[] } {
  let header: string[] | undefined;
  let index: Record<keyof typeof COLUMNS, number> | undefined;
  let records: string[][];
  try {
    // on_record keeps only the 3 columns used and the line number (cheaper than info: true).
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (rec: string[], ctx: { lines: number }) => {
        if (!index) {
          header = rec.map((h) => h.trim());
          index = { image: header.indexOf(COLUMNS.image), findings: header.indexOf(COLUMNS.findings), patient: header.indexOf(COLUMNS.patient) };
          return null;
        }
        return [String(ctx.lines), rec[index.image], rec[index.findings], rec[index.patient]];
      },
    });
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 1;
    throw new Error(`nih adapter: ${file}:${line}: not valid CSV (${(e as Error).message}); re-download it`);
  }
  if (!header || !index) throw new Error(`nih adapter: ${file}:1: the file is empty; re-download it`);
  const absent = (Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]).filter((k) => index![k] < 0).map((k) => `'${COLUMNS[k]}'`);
  if (absent.length) {
    throw new Error(`nih adapter: ${file}:1: no ${absent.join(', ')} column (header: ${header.join(', ')}): is it Data_Entry_2017.csv?`);
  }
  const rows: NihRow[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const [lineText, image, findings, patient] of records) {
    const line = Number(lineText);
    const where = `${file}:${line}`;
    const parsed = Row.safeParse({ image, findings, patient });
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => (i.path[0] === 'findings' ? findingsProblem(findings) : i.message)).join('; ');
      problems.push({ where, message: `${msg}: row skipped` });
      continue;
    }
    const name = image.trim();
    if (seen.has(name)) {
      problems.push({ where, message: `duplicate image '${name}': row skipped` });
      continue;
    }
    seen.add(name);
    const labels = [...new Set(findings.split('|').map((f) => f.trim()))].sort();
    rows.push({ image: name, findings: labels, patient: String(Number(patient)), line });
  }
  return { rows, problems };
}

/** One image name per line (train_val_list.txt, test_list.txt). */
export function parseSplitList(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`nih adapter: cannot read ${what} ${file} (${(e as Error).message}); it comes with the NIH ChestX-ray14 download`);
  }
}

/** The labels CSV in `dir`: `file` when given (relative to dir or absolute), else the newest present. */
export async function findNihLabelFile(dir: string, file?: string): Promise<string> {
  if (file) return isAbsolute(file) ? file : join(dir, file);
  for (const name of NIH_LABEL_FILES) if (await exists(join(dir, name))) return join(dir, name);
  throw new Error(`nih adapter: no ${NIH_LABEL_FILES.join(' or ')} in ${dir}: download it with the images, or set metadataDir / labelsFile`);
}

/**
 * Reads the labels CSV and the official split lists from `dir` and joins them. Rows in neither
 * list, list names without a CSV row, names in both lists and patients in both lists are problems.
 */
export async function readNihMetadata(dir: string, labelsFile?: string): Promise<{ records: NihRecord[]; problems: Problem[]; csvFile: string }> {
  const csvFile = await findNihLabelFile(dir, labelsFile);
  const { rows, problems } = parseNihCsv(await readText(csvFile, 'labels file'), csvFile);
  const splitOf = new Map<string, 'train' | 'test'>();
  for (const [split, name] of Object.entries(NIH_SPLIT_FILES) as ['train' | 'test', string][]) {
    const listFile = join(dir, name);
    const names = parseSplitList(await readText(listFile, 'official split list'));
    if (names.length === 0) problems.push({ where: `${listFile}:1`, message: `the list is empty: no image goes to ${split}; re-download it` });
    for (const image of names) {
      const prev = splitOf.get(image);
      if (prev && prev !== split) problems.push({ where: listFile, message: `${image} is in both split lists: kept in ${prev}` });
      else splitOf.set(image, split);
    }
  }
  const records: NihRecord[] = [];
  const listedInCsv = new Set<string>();
  for (const r of rows) {
    listedInCsv.add(r.image);
    const split = splitOf.get(r.image);
    if (!split) {
      problems.push({ where: `${csvFile}:${r.line}`, message: `${r.image} is in neither ${NIH_SPLIT_FILES.train} nor ${NIH_SPLIT_FILES.test}: skipped` });
      continue;
    }
    const normal = r.findings.length === 1 && r.findings[0] === NIH_NO_FINDING;
    records.push({ image: r.image, label: normal ? 0 : 1, findings: normal ? [] : r.findings, patient: r.patient, split });
  }
  const orphans = [...splitOf.keys()].filter((image) => !listedInCsv.has(image));
  if (orphans.length) {
    problems.push({ where: dir, message: `${orphans.length} images of the split lists have no row in ${csvFile} (first: ${orphans.slice(0, 5).join(', ')}): skipped` });
  }
  // The official split is patient-disjoint; say so loudly if a (modified) list breaks that.
  const trainPatients = new Set(records.filter((r) => r.split === 'train').map((r) => r.patient));
  const straddling = new Set(records.filter((r) => r.split === 'test' && trainPatients.has(r.patient)).map((r) => r.patient));
  if (straddling.size) {
    problems.push({ where: dir, message: `${straddling.size} patients have images in both train_val and test (first: ${[...straddling].slice(0, 5).join(', ')}): test results will be optimistic` });
  }
  return { records, problems, csvFile };
}
