import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type EfficiencyCell, type PretextInfo, type ResultRow, REFERENCE_INITS, REFERENCE_LABELS, type SeedSummary, labelEfficiency, variantBase, writeResultsFile } from '@cxr-ssl/eval';
import { INIT_ORDER, STUDY_ACCURACY } from './study.ts';

const pct = (x: number) => (100 * x).toFixed(1).replace(/^-/, '−');
const ci = (c?: [number, number]) => (c ? ` [${pct(c[0])}, ${pct(c[1])}]` : '');
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pct(Math.abs(x))}`;
const fractionLabel = (f: number) => `${+(100 * f).toPrecision(3)}%`;

export function initRank(init: string): number {
  const base = variantBase(init); // a variant right after its method
  const i = INIT_ORDER.indexOf(base ?? init);
  return (i < 0 ? INIT_ORDER.length : i) + (base ? 0.5 : 0);
}

export function sortRows(rows: ResultRow[]): ResultRow[] {
  return [...rows].sort(
    (a, b) =>
      a.size - b.size ||
      (a.protocol ?? 'linear').localeCompare(b.protocol ?? 'linear') ||
      (b.fraction ?? 1) - (a.fraction ?? 1) ||
      initRank(a.init) - initRank(b.init) ||
      a.init.localeCompare(b.init) ||
      (a.seed ?? 0) - (b.seed ?? 0),
  );
}

/** "lr 0.01, momentum 0.9, decay 0.9": whatever the run's optimiser config holds. */
export function optimizerText(p?: PretextInfo): string {
  if (!p?.optimizer) return '–';
  return Object.entries(p.optimizer)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

export const pretextAccuracyText = (p?: PretextInfo) => (p?.valAccuracy === undefined ? '–' : pct(p.valAccuracy));

/** The data sets behind a row: "kermany" or, for transfer, "kermany (pretext: nih)". */
export function dataText(r: ResultRow): string {
  const d = r.data ?? '–';
  return r.pretext && r.pretext.data !== r.data ? `${d} (pretext: ${r.pretext.data})` : d;
}

function pairedText(r: ResultRow, ref: string): string {
  const p = r.paired?.[ref];
  return p ? `${signed(p.auc.diff)}${ci(p.auc.ci)}` : '–';
}

/** results.md: every row with its CIs, paired differences and where its encoder came from. */
export function resultsMarkdown(rows: ResultRow[], title: string): string {
  const anyPretext = rows.some((r) => r.pretext);
  const anyRb = rows.some((r) => r.init === 'random-bn');
  const lines = [
    `# ${title}`,
    '',
    'Normal vs abnormal on the test split. Percentages; 95% bootstrap confidence intervals in brackets. ' +
      'ΔAUC columns: this row minus the random-init (BatchNorm recalibrated, where evaluated) / ImageNet row of the same size, protocol, label fraction and seed, ' +
      'on the same test images (paired bootstrap CI).',
    '',
    `| init | encoder | size | protocol | labels | seed | n train | accuracy | AUC | ΔAUC vs random${anyRb ? ' | ΔAUC vs random (BN recal.)' : ''} | ΔAUC vs ImageNet | balanced acc. | sensitivity | specificity | majority class | n test | data | study accuracy${anyPretext ? ' | pretext val acc. | pretext optimiser' : ''} |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|${anyRb ? '---|' : ''}${anyPretext ? '---|---|' : ''}`,
  ];
  for (const r of sortRows(rows)) {
    const study = (r.protocol ?? 'linear') === 'linear' && (r.fraction ?? 1) === 1 ? STUDY_ACCURACY[r.init]?.[r.size] : undefined;
    const cells = [
      r.init,
      r.encoder ?? '–',
      r.size,
      r.protocol ?? 'linear',
      fractionLabel(r.fraction ?? 1),
      r.seed ?? 0,
      r.n_train ?? '–',
      `${pct(r.accuracy)}${ci(r.ci?.accuracy)}`,
      `${pct(r.auc)}${ci(r.ci?.auc)}`,
      pairedText(r, 'random'),
      ...(anyRb ? [pairedText(r, 'random-bn')] : []),
      pairedText(r, 'imagenet'),
      pct(r.balanced_accuracy),
      pct(r.sensitivity),
      pct(r.specificity),
      pct(r.majority_accuracy),
      r.n_test,
      dataText(r),
      study === undefined ? '–' : study.toFixed(2),
      ...(anyPretext ? [pretextAccuracyText(r.pretext), optimizerText(r.pretext)] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    "'majority class' is the accuracy of always answering the split's most frequent class: an encoder is only useful above it.",
    "The study's column is NIH ChestX-ray14 with VGG16, linear protocol on all labels; it is comparable only when this run used the same data and encoder.",
    ...(anyPretext ? ["'pretext val acc.' is the pretext task's accuracy on held-out images at its last epoch."] : []),
    '',
  );
  return lines.join('\n');
}

const summaryText = (s: SeedSummary, seeds: number) => `${pct(s.mean)}${seeds > 1 ? ` ± ${pct(s.sd)}` : ''}`;

/**
 * The label-efficiency table: per size and protocol, inits (rows) x label fractions (columns);
 * a cell is AUC (mean ± sd over seeds) with its difference to random init and to ImageNet
 * (seed-averaged, paired bootstrap 95% CI over the test images).
 */
export function labelEfficiencyMarkdown(cells: EfficiencyCell[]): string {
  if (cells.length === 0) return '';
  const out: string[] = [
    '## Label efficiency',
    '',
    'AUC (%) by share of the training labels (drawn by patient, stratified by class, nested), mean ± sd over seeds; ' +
      'below it accuracy, then Δ = AUC difference to random init (R), random init with BatchNorm statistics recalibrated on the train images (RB), ImageNet (I) and the best other method of the cell (B, named: the highest seed-mean AUC apart from those) and, for a variant `<method>+<label>`, the default task of that method (D), seed-averaged, with a paired bootstrap 95% CI over the test images.',
    '',
  ];
  const groups = [...new Set(cells.map((c) => `${c.data}|${c.size}|${c.protocol}`))];
  for (const g of groups) {
    const [data, size, protocol] = g.split('|');
    const these = cells.filter((c) => `${c.data}|${c.size}|${c.protocol}` === g);
    const fractions = [...new Set(these.map((c) => c.fraction))].sort((a, b) => a - b);
    const inits = [...new Set(these.map((c) => c.init))].sort((a, b) => initRank(a) - initRank(b) || a.localeCompare(b));
    out.push(`### ${protocol}, ${data} at ${size} px`, '', `| init | encoder | ${fractions.map((f) => `${fractionLabel(f)} labels`).join(' | ')} |`, `|---|---|${fractions.map(() => '---').join('|')}|`);
    for (const init of inits) {
      const row = fractions.map((f) => {
        const c = these.find((x) => x.init === init && x.fraction === f);
        if (!c) return '–';
        const n = c.seeds.length;
        const vs = REFERENCE_INITS.filter((r) => c.vs[r]).map((r) => `Δ${REFERENCE_LABELS[r]} ${signed(c.vs[r].auc.mean)}${ci(c.vs[r].auc.ci)}`);
        if (c.best) vs.push(`ΔB (${c.best.init}) ${signed(c.best.auc.mean)}${ci(c.best.auc.ci)}`);
        if (c.base) vs.push(`ΔD (${c.base.init}) ${signed(c.base.auc.mean)}${ci(c.base.auc.ci)}`);
        return [`AUC ${summaryText(c.auc, n)}`, `acc. ${summaryText(c.accuracy, n)}`, ...vs, `n=${Math.round(c.n_train)}, ${n} seed${n > 1 ? 's' : ''}`].join('<br>');
      });
      out.push(`| ${init} | ${these.find((x) => x.init === init && x.encoder)?.encoder ?? '–'} | ${row.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** results.json and results.md; returns the label-efficiency cells (bootstrapped: costly) for the plots. */
export function writeResults(dir: string, rows: ResultRow[], title: string): EfficiencyCell[] {
  writeResultsFile(join(dir, 'results.json'), sortRows(rows));
  const cells = labelEfficiency(rows);
  const efficiency = cells.some((c) => c.fraction < 1 || c.seeds.length > 1) ? labelEfficiencyMarkdown(cells) : '';
  writeFileAtomic(join(dir, 'results.md'), [resultsMarkdown(rows, title), efficiency].filter(Boolean).join('\n'));
  return cells;
}
