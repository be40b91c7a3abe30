import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type ResultRow, writeResultsFile } from '@cxr-ssl/eval';
import { INIT_ORDER, STUDY_ACCURACY } from './study.ts';

const pct = (x: number) => (100 * x).toFixed(1);
const ci = (c?: [number, number]) => (c ? ` [${pct(c[0])}, ${pct(c[1])}]` : '');

export function sortRows(rows: ResultRow[]): ResultRow[] {
  const rank = (init: string) => {
    const i = INIT_ORDER.indexOf(init);
    return i < 0 ? INIT_ORDER.length : i;
  };
  return [...rows].sort((a, b) => a.size - b.size || rank(a.init) - rank(b.init) || a.init.localeCompare(b.init));
}

/** results.md: our linear-evaluation table beside the study's published accuracy. */
export function resultsMarkdown(rows: ResultRow[], title: string): string {
  const lines = [
    `# ${title}`,
    '',
    'Linear evaluation, normal vs abnormal, on the test split. Percentages; 95% bootstrap confidence intervals in brackets.',
    '',
    '| init | size | accuracy | AUC | balanced acc. | sensitivity | specificity | majority class | n test | study accuracy |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of sortRows(rows)) {
    const study = STUDY_ACCURACY[r.init]?.[r.size];
    lines.push(
      `| ${r.init} | ${r.size} | ${pct(r.accuracy)}${ci(r.ci?.accuracy)} | ${pct(r.auc)}${ci(r.ci?.auc)} | ${pct(r.balanced_accuracy)} | ${pct(r.sensitivity)} | ${pct(r.specificity)} | ${pct(r.majority_accuracy)} | ${r.n_test} | ${study === undefined ? '–' : study.toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    "'majority class' is the accuracy of always answering the split's most frequent class: an encoder is only useful above it.",
    "The study's column is NIH ChestX-ray14 with VGG16; it is comparable only when this run used the same data and encoder.",
    '',
  );
  return lines.join('\n');
}

export function writeResults(dir: string, rows: ResultRow[], title: string): void {
  writeResultsFile(join(dir, 'results.json'), sortRows(rows));
  writeFileAtomic(join(dir, 'results.md'), resultsMarkdown(rows, title));
}
