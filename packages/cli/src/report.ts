import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { basename } from 'node:path';
import { type EfficiencyCell, type PretextInfo, type ResultRow, REFERENCE_LABELS, REFERENCE_METHODS, STUDY_PROTOCOL, type SeedSummary, labelEfficiency, writeResultsFile } from '@cxr-ssl/eval';
import { INIT_ORDER, STUDY_ACCURACY } from './study.ts';
import { featureHealthMarkdown } from './feature-report.ts';
import { operatingPointsMarkdown, outputsMarkdown, targetNote } from './targets-report.ts';

export const pct = (x: number) => (100 * x).toFixed(1).replace(/^-/, '−');
export const ci = (c?: [number, number]) => (c ? ` [${pct(c[0])}, ${pct(c[1])}]` : '');
export const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pct(Math.abs(x))}`;
export const fractionLabel = (f: number) => `${+(100 * f).toPrecision(3)}%`;

/** Where an encoder goes in a table: by its method in the study's order, a variant right after the encoder it varies. */
type Ranked = { label: string; method: string; base?: unknown };
export function encoderRank(r: Ranked): number {
  const i = INIT_ORDER.indexOf(r.method);
  return (i < 0 ? INIT_ORDER.length : i) + (r.base ? 0.5 : 0);
}

/** Encoders in table order: by rank, then label. */
export const byEncoder = (a: Ranked, b: Ranked) => encoderRank(a) - encoderRank(b) || a.label.localeCompare(b.label);

export function sortRows(rows: ResultRow[]): ResultRow[] {
  return [...rows].sort((a, b) => a.size - b.size || a.protocol.localeCompare(b.protocol) || b.fraction - a.fraction || byEncoder(a, b) || a.seed - b.seed);
}

/** "lr 0.01, momentum 0.9, decay 0.9": whatever the run's optimiser config holds. */
export function optimizerText(p?: PretextInfo): string {
  if (!p?.optimizer) return '–';
  return Object.entries(p.optimizer)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

export const pretextAccuracyText = (p?: PretextInfo) => (p?.valAccuracy === undefined ? '–' : pct(p.valAccuracy));

/** The identity columns of a row or cell: label, method, architecture, pretext data, where pretraining started. */
export const IDENTITY_HEAD = ['encoder', 'method', 'architecture', 'pretext data', 'init'];
export function identityCells(r: { label: string; method: string; encoder?: string }, pretext?: PretextInfo): string[] {
  const init = pretext?.init === undefined ? '–' : pretext.init === 'random' ? 'random' : basename(pretext.init);
  return [r.label, r.method, r.encoder ?? '–', pretext?.data ?? '–', init];
}

function pairedText(r: ResultRow, ref: string): string {
  const p = r.paired?.[ref];
  return p ? `${signed(p.auc.diff)}${ci(p.auc.ci)}` : '–';
}

/** results.md: every row with its CIs, paired differences and where its encoder came from. */
export function resultsMarkdown(rows: ResultRow[], title: string): string {
  const anyPretext = rows.some((r) => r.pretext);
  const anyRb = rows.some((r) => r.method === 'random-bn');
  const lines = [
    `# ${title}`,
    '',
    'Normal vs abnormal on the test split. Percentages; 95% bootstrap confidence intervals in brackets. ' +
      'ΔAUC columns: this row minus the random-init (BatchNorm recalibrated, where evaluated) / ImageNet row of the same size, protocol, label fraction and seed, ' +
      'on the same test images (paired bootstrap CI).',
    '',
    `| ${IDENTITY_HEAD.join(' | ')} | size | protocol | labels | seed | n train | accuracy | AUC | ΔAUC vs random${anyRb ? ' | ΔAUC vs random (BN recal.)' : ''} | ΔAUC vs ImageNet | balanced acc. | sensitivity | specificity | majority class | n test | data | study accuracy${anyPretext ? ' | pretext val acc. | pretext optimiser' : ''} |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|${anyRb ? '---|' : ''}${anyPretext ? '---|---|' : ''}`,
  ];
  for (const r of sortRows(rows)) {
    const study = r.protocol === STUDY_PROTOCOL && r.fraction === 1 && !r.base ? STUDY_ACCURACY[r.method]?.[r.size] : undefined;
    const cells = [
      ...identityCells(r, r.pretext),
      r.size,
      r.protocol,
      fractionLabel(r.fraction),
      r.seed,
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
      r.data ?? '–',
      study === undefined ? '–' : study.toFixed(2),
      ...(anyPretext ? [pretextAccuracyText(r.pretext), optimizerText(r.pretext)] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    "'majority class' is the accuracy of always answering the split's most frequent class: an encoder is only useful above it.",
    "'encoder' is the row's label (a run folder's name, a built-in, or --label): each encoder is its own row, whatever its method. 'init' is where its pretraining started.",
    `The study's column is NIH ChestX-ray14 with VGG16, the ${STUDY_PROTOCOL} protocol on all labels; it is comparable only when this run used the same data and encoder.`,
    ...(anyPretext ? ["'pretext val acc.' is the pretext task's accuracy on held-out images at its last epoch."] : []),
    targetNote(rows),
  );
  return lines.join('\n');
}

const summaryText = (s: SeedSummary, seeds: number) => `${pct(s.mean)}${seeds > 1 ? ` ± ${pct(s.sd)}` : ''}`;

/**
 * The label-efficiency table: per size and protocol, encoders (rows) x label fractions (columns);
 * a cell is AUC (mean ± sd over seeds) with its difference to random init and to ImageNet
 * (seed-averaged, paired bootstrap 95% CI over the test images).
 */
export function labelEfficiencyMarkdown(cells: EfficiencyCell[]): string {
  if (cells.length === 0) return '';
  const out: string[] = [
    '## Label efficiency',
    '',
    'AUC (%) by share of the training labels (drawn by patient, stratified by class, nested), mean ± sd over seeds; ' +
      'below it accuracy, then Δ = AUC difference to random init (R), random init with BatchNorm statistics recalibrated on the train images (RB), ImageNet (I) and the best other encoder of the cell (B, named: the highest seed-mean AUC apart from those) and, for a variant, the encoder it varies (D), seed-averaged, with a paired bootstrap 95% CI over the test images.',
    '',
  ];
  const groups = [...new Set(cells.map((c) => `${c.data}|${c.size}|${c.protocol}`))];
  for (const g of groups) {
    const [data, size, protocol] = g.split('|');
    const these = cells.filter((c) => `${c.data}|${c.size}|${c.protocol}` === g);
    const fractions = [...new Set(these.map((c) => c.fraction))].sort((a, b) => a - b);
    const encoders = [...new Map(these.map((c) => [c.label, c])).values()].sort(byEncoder);
    out.push(`### ${protocol}, ${data} at ${size} px`, '', `| ${IDENTITY_HEAD.join(' | ')} | ${fractions.map((f) => `${fractionLabel(f)} labels`).join(' | ')} |`, `|---|---|---|---|---|${fractions.map(() => '---').join('|')}|`);
    for (const e of encoders) {
      const row = fractions.map((f) => {
        const c = these.find((x) => x.label === e.label && x.fraction === f);
        if (!c) return '–';
        const n = c.seeds.length;
        const vs = REFERENCE_METHODS.filter((r) => c.vs[r]).map((r) => `Δ${REFERENCE_LABELS[r]} ${signed(c.vs[r].auc.mean)}${ci(c.vs[r].auc.ci)}`);
        if (c.best) vs.push(`ΔB (${c.best.label}) ${signed(c.best.auc.mean)}${ci(c.best.auc.ci)}`);
        if (c.base) vs.push(`ΔD (${c.base.label}) ${signed(c.base.auc.mean)}${ci(c.base.auc.ci)}`);
        return [`AUC ${summaryText(c.auc, n)}`, `acc. ${summaryText(c.accuracy, n)}`, ...vs, `n=${Math.round(c.n_train)}, ${n} seed${n > 1 ? 's' : ''}`].join('<br>');
      });
      out.push(`| ${identityCells(e, e.pretext).join(' | ')} | ${row.join(' | ')} |`);
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
  writeFileAtomic(join(dir, 'results.md'), [resultsMarkdown(rows, title), featureHealthMarkdown(rows), efficiency, outputsMarkdown(cells), operatingPointsMarkdown(rows)].filter(Boolean).join('\n'));
  return cells;
}
