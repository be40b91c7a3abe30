/**
 * Patient ids from file names, so no patient straddles train and val. The default knows the
 * Kermany naming: `person1000_bacteria_2931` -> person1000, `IM-0011-0001-0002` -> IM-0011,
 * `NORMAL2-IM-1427-0001` -> NORMAL2-IM-1427. A name that does not match has no patient (each
 * image then counts as its own patient).
 */
export const KERMANY_PATIENT_PATTERN = '^(person\\d+|(?:NORMAL2-)?IM-\\d+)(?=[-_.])';

/** First capture group of `pattern` (or the whole match) in the file's base name. */
export function patientFromName(baseName: string, pattern: string | undefined): string | undefined {
  if (!pattern) return undefined;
  const m = new RegExp(pattern).exec(baseName);
  if (!m) return undefined;
  return m[1] ?? m[0];
}

/**
 * Kermany's pneumonia files name their cause: `person1000_bacteria_2931`, `person1000_virus_1681`.
 * The first group is the image's class; a name that does not match keeps its folder's (NORMAL).
 */
export const KERMANY_CLASS_PATTERN = '_(bacteria|virus)_';

/** The class a file name gives (first group of `pattern`), else `fallback` (the folder's or the label's). */
export function classFromName(baseName: string, pattern: string | null | undefined, fallback: string): string {
  return (pattern ? patientFromName(baseName, pattern) : undefined) ?? fallback;
}
