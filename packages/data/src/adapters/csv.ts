import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { KERMANY_CLASS_PATTERN, KERMANY_PATIENT_PATTERN, classFromName, patientFromName } from './patient.ts';
import { DEFAULT_NORMAL_CLASSES, type DatasetAdapter, type Entry, type Problem, isNormalClass } from './types.ts';

/**
 * A CSV manifest: one row per image. Columns: `path` (relative to the CSV's folder, or absolute),
 * the label column (0/1, or a class name: `normalClasses` -> 0, anything else -> 1), and optionally
 * `split` (train/val/validation/test), `patient`, `class` (its one class, for `eval --target
 * classes`; default: a class-name label, refined by `classPattern` for abnormal images), `findings`
 * ('|'-separated, for `eval --target findings`; an empty cell or a normal class name is none), `id`
 * (default: path).
 * `root` is the CSV file itself, or a folder holding `file` (default labels.csv).
 */
export const csvOptions = z
  .object({
    file: z.string().default('labels.csv'),
    labelColumn: z.string().default('label'),
    normalClasses: z.array(z.string()).min(1).default(DEFAULT_NORMAL_CLASSES),
    /** used when there is no patient column: regex on the image's base name */
    patientPattern: z.string().nullable().default(KERMANY_PATIENT_PATTERN),
    /** with a class-name label and no class column: regex on an abnormal image's base name, first group = its class */
    classPattern: z.string().nullable().default(KERMANY_CLASS_PATTERN),
  })
  .strict();
export type CsvOptions = z.infer<typeof csvOptions>;

const optionalText = z
  .string()
  .optional()
  .transform((s) => (s?.trim() ? s.trim() : undefined));

const Row = z.object({
  path: z.string().trim().min(1, 'empty path'),
  label: z
    .string()
    .trim()
    .min(1, 'empty label')
    // a class name, or 0/1: a number like 2 or -1 is a mistake, not an "abnormal" class
    .refine((s) => !/^[-+]?\d*\.?\d+$/.test(s) || s === '0' || s === '1', 'a numeric label must be 0 (normal) or 1 (abnormal): the classes are 0/1 or class names'),
  split: z
    .string()
    .optional()
    .transform((s) => s?.trim().toLowerCase() || undefined)
    .pipe(z.enum(['train', 'val', 'validation', 'test']).optional()),
  patient: optionalText,
  class: optionalText,
  findings: optionalText,
  id: optionalText,
});

export async function resolveCsvFile(root: string, file: string): Promise<string> {
  try {
    return (await stat(root)).isDirectory() ? join(root, file) : root;
  } catch {
    throw new Error(`csv adapter: ${root} does not exist: give the CSV manifest or the folder that holds ${file}`);
  }
}

/** The kind of a row that failed the Row schema, named after the column at fault. */
function rowProblemKind(issue: { path: PropertyKey[]; message: string } | undefined): string {
  const column = String(issue?.path[0] ?? 'row');
  if (column === 'split') return 'unknown split';
  if (column === 'label') return issue?.message === 'empty label' ? 'empty label' : 'label outside the classes';
  if (column === 'path') return 'empty path';
  return `bad ${column}`;
}

export function parseLabel(raw: string, normal: readonly string[]): 0 | 1 {
  if (raw === '0' || raw === '1') return raw === '1' ? 1 : 0;
  return isNormalClass(raw, normal) ? 0 : 1;
}

/** A findings cell: '|'-separated names; empty, or a normal class name ('No Finding'), is none. */
function findingsOf(cell: string | undefined, normal: readonly string[]): string[] {
  const names = (cell ?? '').split('|').map((s) => s.trim()).filter(Boolean);
  return [...new Set(names.filter((n) => !isNormalClass(n, normal)))].sort();
}

export const csv: DatasetAdapter<CsvOptions> = {
  name: 'csv',
  options: csvOptions,
  async scan(root, opts) {
    const file = await resolveCsvFile(root, opts.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new Error(`csv adapter: cannot read ${file} (${(e as Error).message})`);
    }
    let table: string[][];
    try {
      const records = parse(text, { skip_empty_lines: true, relax_column_count: true, bom: true, info: true }) as unknown as {
        record: string[];
        info: { lines: number };
      }[];
      table = records.map((r) => [String(r.info.lines), ...r.record]);
    } catch (e) {
      // csv-parse knows the line where the structure broke (an unclosed quote, a stray one)
      const line = (e as { lines?: number }).lines ?? 1;
      throw new Error(`csv adapter: ${file}:${line}: not valid CSV (${(e as Error).message}); fix the quoting there`);
    }
    const [headerRow, ...rows] = table;
    const header = (headerRow ?? []).slice(1).map((h) => h.trim());
    for (const col of ['path', opts.labelColumn]) {
      if (rows.length && !header.includes(col)) {
        // list the header only when it looks like column names: a file that is not a manifest
        // (a wrong --source, /etc/passwd) must not have its first line printed
        const columnNames = header.every((h) => /^[\w .()-]{1,64}$/.test(h));
        const found = columnNames ? `found: ${header.join(', ')}` : `its first line is not a row of column names: is ${file} a CSV manifest?`;
        throw new Error(`csv adapter: ${file}:${headerRow[0]}: no '${col}' column (${found}); name the image column 'path' and pass labelColumn for the label`);
      }
    }
    const base = dirname(resolve(file));
    const hasFindings = header.includes('findings');
    const entries: Entry[] = [];
    const problems: Problem[] = [];
    const seen = new Map<string, string>(); // id -> its label
    for (const [lineText, ...fields] of rows) {
      const where = `${file}:${lineText}`;
      // a row with more or fewer fields than the header would shift columns (an unquoted comma in a path)
      if (fields.length !== header.length) {
        problems.push({ where, kind: 'wrong number of fields', message: `${fields.length} fields, the header has ${header.length}: quote fields that contain commas; row skipped` });
        continue;
      }
      const record = Object.fromEntries(header.map((h, i) => [h, fields[i]]));
      const parsed = Row.safeParse({ ...record, label: record[opts.labelColumn] });
      if (!parsed.success) {
        const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ');
        problems.push({ where, kind: rowProblemKind(parsed.error.issues[0]), message: `${msg}: row skipped` });
        continue;
      }
      const r = parsed.data;
      const id = r.id ?? r.path;
      const first = seen.get(id);
      if (first !== undefined) {
        // the same image twice: harmless with the same label, a contradiction with another
        const other = first !== r.label;
        problems.push({
          where,
          kind: other ? 'duplicate path with another label' : 'duplicate path',
          message: `duplicate image '${id}'${other ? ` labelled ${r.label} here and ${first} on an earlier row` : ''}: row skipped (the first row is used)`,
        });
        continue;
      }
      seen.set(id, r.label);
      const name = basename(r.path, extname(r.path));
      const patient = r.patient ?? patientFromName(name, opts.patientPattern ?? undefined);
      const label = parseLabel(r.label, opts.normalClasses);
      const cls = r.class ?? (/^[01]$/.test(r.label) ? undefined : label === 1 ? classFromName(name, opts.classPattern, r.label) : r.label);
      entries.push({
        id,
        path: isAbsolute(r.path) ? r.path : join(base, r.path),
        label,
        ...(cls ? { class: cls } : {}),
        ...(hasFindings ? { findings: findingsOf(r.findings, opts.normalClasses) } : {}),
        ...(r.split ? { split: r.split === 'validation' ? 'val' : r.split } : {}),
        ...(patient ? { patient } : {}),
      } as Entry);
    }
    if (entries.length === 0) {
      const first = problems.slice(0, 3).map((p) => `${p.where}: ${p.message}`);
      throw new Error(`csv adapter: ${file}:${headerRow?.[0] ?? 1}: lists no usable images${first.length ? ` (${problems.length} problems; ${first.join('; ')})` : ''}`);
    }
    return { entries, problems };
  },
};
