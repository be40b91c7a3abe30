import { type ResultRow, STUDY_PROTOCOL } from '@cxr-ssl/eval';
import { IDENTITY_HEAD, byEncoder, byPanel, ciText, fractionLabel, identityCells, points, signedPoints, targetOf } from './report-format.ts';
import { STUDY_ACCURACY } from './study.ts';

function pairedText(r: ResultRow, ref: string): string {
  const p = r.paired?.[ref];
  return p ? `${signedPoints(p.auc.diff)}${ciText(p.auc.ci)}` : '–';
}

export const PER_SEED_HEADING = '## Per-seed rows';

/** A row's cells after its seed: everything the table shows of it. */
function rowCells(r: ResultRow, anyRb: boolean): (string | number)[] {
  const study = r.protocol === STUDY_PROTOCOL && r.fraction === 1 && !r.base ? STUDY_ACCURACY[r.method]?.[r.size] : undefined;
  return [
    r.n_train ?? '–',
    `${points(r.accuracy)}${ciText(r.ci?.accuracy)}`,
    `${points(r.auc)}${ciText(r.ci?.auc)}`,
    pairedText(r, 'random'),
    ...(anyRb ? [pairedText(r, 'random-bn')] : []),
    pairedText(r, 'imagenet'),
    points(r.balanced_accuracy),
    points(r.sensitivity),
    points(r.specificity),
    points(r.majority_accuracy),
    r.n_test,
    r.data ?? '–',
    study === undefined ? '–' : study.toFixed(2),
  ];
}

/** "0–2" for consecutive seeds, else "0, 2, 5". */
const seedsText = (seeds: number[]) => (seeds.length > 2 && seeds.at(-1)! - seeds[0] === seeds.length - 1 ? `${seeds[0]}–${seeds.at(-1)}` : seeds.join(', '));

/**
 * Every row with its CIs and paired differences, last in the report and folded (`<details>`, which
 * forges render too). Seeds that gave the same scores (kNN on all labels does not depend on the seed)
 * are one line, its seed cell naming them all.
 */
export function perSeedMarkdown(rows: ResultRow[]): string[] {
  if (rows.length === 0) return [];
  const anyRb = rows.some((r) => r.method === 'random-bn');
  const targets = new Set(rows.map(targetOf)).size > 1;
  const head = [...IDENTITY_HEAD, 'size', 'protocol', ...(targets ? ['target'] : []), 'labels', 'seed', 'n train', 'accuracy', 'AUC', 'ΔAUC vs random', ...(anyRb ? ['ΔAUC vs random (BN recal.)'] : []), 'ΔAUC vs ImageNet', 'balanced acc.', 'sensitivity', 'specificity', 'majority class', 'n test', 'data', 'study accuracy'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  // a seed's row joins an earlier seed's when it scored every test image the same (its bootstrap CIs,
  // drawn with its own seed, may still differ by resampling noise), or reads the same without scores
  const groups = new Map<string, { first: ResultRow; same: string; seeds: number[] }[]>();
  for (const r of [...rows].sort((a, b) => byPanel(a, b) || a.fraction - b.fraction || byEncoder(a, b) || a.seed - b.seed)) {
    const key = [r.data ?? '', r.label, r.size, r.protocol, targetOf(r), r.fraction].join('|');
    const same = r.scores ? `${r.n_train}|${r.scores.join(',')}` : rowCells(r, anyRb).join(' | ');
    const earlier = groups.get(key)?.find((g) => g.same === same);
    if (earlier) earlier.seeds.push(r.seed);
    else groups.set(key, [...(groups.get(key) ?? []), { first: r, same, seeds: [r.seed] }]);
  }
  let collapsed = 0;
  let into = 0;
  for (const g of [...groups.values()].flat()) {
    const r = g.first;
    if (g.seeds.length > 1) {
      collapsed += g.seeds.length;
      into++;
    }
    lines.push(`| ${[...identityCells(r, r.pretext), r.size, r.protocol, ...(targets ? [targetOf(r)] : []), fractionLabel(r.fraction), g.seeds.length > 1 ? `${seedsText(g.seeds)} (same scores)` : r.seed, ...rowCells(r, anyRb)].join(' | ')} |`);
  }
  const summary = `${rows.length} rows, one per encoder, protocol, label fraction and seed${collapsed > 0 ? `; seeds that scored every test image the same are one line (the first seed's CIs): ${collapsed} rows in ${into} lines` : ''}`;
  return [
    PER_SEED_HEADING,
    '',
    '<details>',
    `<summary>${summary}</summary>`,
    '',
    ...lines,
    '',
    'Percentages; 95 % bootstrap CIs in brackets. ΔAUC: this row minus the random-init (BatchNorm recalibrated, where evaluated) / ImageNet row of the same size, protocol, label fraction and seed, on the same test images (paired bootstrap CI). ' +
      "'majority class' is the accuracy of always answering the split's most frequent class: an encoder is only useful above it. " +
      `The study's column is NIH ChestX-ray14 with VGG16, the ${STUDY_PROTOCOL} protocol on all labels; it is comparable only when this run used the same data and encoder.`,
    '',
    '</details>',
    '',
  ];
}
