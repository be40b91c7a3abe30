import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type EfficiencyCell, type PretextInfo, type ResultRow, REFERENCE_METHODS, type SeedSummary, labelEfficiency, writeResultsFile } from '@cxr-ssl/eval';
import { answerMarkdown, verdictOf } from './answer.ts';
import { featureHealthMarkdown } from './feature-report.ts';
import { leadPlotName, leadPlotTitle } from './lead-figure.ts';
import { PER_SEED_HEADING, perSeedMarkdown } from './per-seed-rows.ts';
import { IDENTITY_HEAD, byEncoder, byPanel, ciText, encodersOf, fractionLabel, identityCells, points, signedPoints, sortRows } from './report-format.ts';
import { operatingPointsMarkdown, outputsMarkdown, targetNote, targetText } from './targets-report.ts';

export { IDENTITY_HEAD, byEncoder, identityCells, sortRows } from './report-format.ts';

/** "lr 0.01, momentum 0.9, decay 0.9": a record of settings (a run's optimiser config, a protocol's options) as text. */
const settingsText = (o: Record<string, unknown>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');

const optimizerText = (p?: PretextInfo) => (p?.optimizer ? settingsText(p.optimizer) : '–');

/** The last held-out pass's top-1 with its chance level in brackets: "48.6 (7.7)". */
const pretextAccuracyText = (p?: PretextInfo) => (p?.valAccuracy === undefined ? '–' : `${points(p.valAccuracy)}${p.valChance === undefined ? '' : ` (${points(p.valChance)})`}`);

/** The last held-out pass's collapse measure, "spread / effective rank", flagged when warnings still stand (collapse, a loss at chance). */
const pretextCollapseText = (p?: PretextInfo) => {
  const measure = p?.valSpread === undefined ? '–' : `${p.valSpread.toFixed(2)} / ${p.valRank?.toFixed(1)}`;
  return p?.warnings?.length ? `${measure} ⚠ ${p.warnings.length} warning${p.warnings.length > 1 ? 's' : ''}` : measure;
};

/** Column names of the differences to the references, by method. */
const REFERENCE_COLUMNS: Record<string, string> = { random: 'random', 'random-bn': 'random (BN recal.)', imagenet: 'ImageNet' };

/** "+4.7 [1.7, 7.8]", bold where the CI leaves 0 out (beats or loses). */
function diffText(d?: SeedSummary): string {
  if (!d) return '–';
  const text = `${signedPoints(d.mean)}${ciText(d.ci)}`;
  return verdictOf(d) === 'ties' ? text : `**${text}**`;
}

const sdText = (s: SeedSummary, n: number) => (n > 1 ? `${n}, sd ${points(s.sd)}` : '1');

/** The compact table: an encoder per protocol and label fraction, AUC over its seeds and its paired differences. */
export function compactTableMarkdown(cells: EfficiencyCell[]): string[] {
  if (cells.length === 0) return [];
  const sizes = new Set(cells.map((c) => c.size)).size > 1;
  const data = new Set(cells.map((c) => c.data)).size > 1;
  const targets = new Set(cells.map((c) => c.target)).size > 1;
  const refs = REFERENCE_METHODS.filter((r) => cells.some((c) => c.vs[r]));
  const best = cells.some((c) => c.best);
  const base = cells.some((c) => c.base);
  const head = [
    ...IDENTITY_HEAD,
    ...(sizes ? ['size'] : []),
    ...(data ? ['data'] : []),
    ...(targets ? ['target'] : []),
    'protocol',
    'labels',
    'AUC [95 % CI]',
    'seeds',
    ...refs.map((r) => `ΔAUC vs ${REFERENCE_COLUMNS[r]}`),
    ...(best ? ['ΔAUC vs best other'] : []),
    ...(base ? ['ΔAUC vs the encoder it varies'] : []),
  ];
  const sorted = [...cells].sort((a, b) => byPanel(a, b) || a.fraction - b.fraction || byEncoder(a, b));
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const c of sorted) {
    const named = (x?: { label: string; auc: SeedSummary }) => (x ? `${x.label} ${diffText(x.auc)}` : '–');
    const cellsOut = [
      ...identityCells(c, c.pretext),
      ...(sizes ? [String(c.size)] : []),
      ...(data ? [c.data] : []),
      ...(targets ? [c.target] : []),
      c.protocol,
      `${fractionLabel(c.fraction)} (n=${Math.round(c.n_train)})`,
      `${points(c.auc.mean)}${ciText(c.auc.ci)}`,
      sdText(c.auc, c.seeds.length),
      ...refs.map((r) => diffText(c.vs[r]?.auc)),
      ...(best ? [named(c.best)] : []),
      ...(base ? [named(c.base)] : []),
    ];
    lines.push(`| ${cellsOut.join(' | ')} |`);
  }
  return [
    '## AUC by encoder, protocol and share of labels',
    '',
    ...lines,
    '',
    'AUC (%) averaged over seeds with its bootstrap 95 % CI; ΔAUC: the seed-averaged difference to that encoder on the same test images, with a paired bootstrap 95 % CI (bold: the CI leaves 0 out). ' +
      "'best other': the encoder of the highest seed-mean AUC in the cell apart from the references. 'n': training labels used.",
    '',
    ...targetNote(cells),
  ];
}

/** Each encoder's settings once (its pretext run, held-out pretext accuracy, optimiser), and each protocol's options once. */
export function settingsMarkdown(rows: ResultRow[]): string[] {
  if (rows.length === 0) return [];
  const pretext = rows.some((r) => r.pretext);
  const head = [...IDENTITY_HEAD, 'weights (sha256)', ...(pretext ? ['pretext run', 'pretext held-out top-1 (chance)', 'pretext spread / rank', 'pretext optimiser'] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const e of encodersOf(rows)) {
    const p = e.pretext;
    const cells = [...identityCells(e, p), e.weights_sha256 ? `\`${e.weights_sha256.slice(0, 12)}\`` : '–', ...(pretext ? [p ? basename(p.run) : '–', pretextAccuracyText(p), pretextCollapseText(p), optimizerText(p)] : [])];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const protocols = [...new Set([...rows].sort(byPanel).map((r) => r.protocol))];
  const options = protocols.flatMap((protocol) => {
    const sets = [...new Set(rows.filter((r) => r.protocol === protocol && r.options).map((r) => settingsText(r.options!)))];
    return sets.map((s) => `- \`${protocol}\`: ${s}`);
  });
  return [
    '## Encoders and settings',
    '',
    ...lines,
    '',
    "'encoder' is the row's label (a run folder's name, a built-in, or --label): each encoder is its own row, whatever its method. 'init' is where its pretraining started." +
      (pretext
        ? " 'pretext held-out top-1' is the method's own top-1 (%) on held-out images at the run's last held-out pass (a pretext task's class; for a method that compares views, each image's other view among the held-out batch's), its chance level in brackets." +
          " 'pretext spread / rank' is that pass's collapse measure of the method's embeddings: the spread of the L2-normalised embeddings × √dim (about 1 healthy, 0 when every image gives the same one) and their effective rank; a run warns when both are low (train/src/run-health.ts). ⚠: warnings still standing at that pass (metrics.jsonl, kind warning)."
        : ''),
    ...(options.length > 0 ? ['', 'Protocol options:', '', ...options] : []),
    '',
  ];
}

/** The line under the title: what was evaluated, on what. */
function introMarkdown(rows: ResultRow[]): string[] {
  if (rows.length === 0) return ['No rows.', ''];
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const tests = uniq(rows.map((r) => `${r.data ?? 'the data'} at ${r.size} px (${r.n_test} test images, majority class ${points(r.majority_accuracy)} %)`));
  const fractions = uniq(rows.map((r) => r.fraction)).sort((a, b) => a - b);
  const seeds = uniq(rows.map((r) => r.seed)).length;
  const encoders = encodersOf(rows).length;
  const protocols = uniq([...rows].sort(byPanel).map((r) => r.protocol));
  return [
    `${targetText(rows)} on the test split of ${tests.join('; ')}: ${encoders} encoder${encoders > 1 ? 's' : ''}, ${protocols.join(' and ')}, ` +
      `${fractions.map((f) => fractionLabel(f, ' ')).join(' / ')} of the training labels, ${seeds} seed${seeds > 1 ? 's' : ''}.`,
    '',
  ];
}

export interface ReportParts {
  title: string;
  /** sections right after the answer and its figure (reproduce's Table 1) */
  afterAnswer?: string[];
  /** sections after the settings (a command's own: shortcuts, pretext health) */
  sections?: string[];
}

/**
 * results.md, in the order a reader asks: the answer (one sentence per comparison) and the figure
 * under it, the compact table (an encoder per protocol and label fraction, seed-averaged), warnings
 * on encoders with constant features, the AUC of each class or finding, operating points and
 * calibration (targets-report.ts), the encoders' settings (once each), sections a command adds (`addReportSection`), the plots
 * (finishReport), and the per-seed rows last, folded.
 *
 * This is the whole results.md but its plots section, which finishReport puts in ahead of the per-seed rows.
 */
export function reportMarkdown(rows: ResultRow[], cells: EfficiencyCell[], parts: ReportParts): string {
  const lead = cells.length > 0 ? [`![${Object.values(leadPlotTitle(cells)).join(', ')}](${leadPlotName(cells)}.png)`, ''] : [];
  return [
    `# ${parts.title}`,
    '',
    ...introMarkdown(rows),
    '## Answer',
    '',
    ...answerMarkdown(cells),
    '',
    ...lead,
    ...(parts.afterAnswer ?? []),
    ...compactTableMarkdown(cells),
    ...featureHealthMarkdown(rows),
    ...outputsMarkdown(cells),
    ...operatingPointsMarkdown(rows),
    ...settingsMarkdown(rows),
    ...(parts.sections ?? []),
    ...perSeedMarkdown(rows),
  ].join('\n');
}

/** results.json and results.md; returns the cells (seed-averaged, bootstrapped: costly) for the plots. */
export function writeResults(dir: string, rows: ResultRow[], title: string): EfficiencyCell[] {
  writeResultsFile(join(dir, 'results.json'), sortRows(rows));
  const cells = labelEfficiency(rows);
  writeFileAtomic(join(dir, 'results.md'), reportMarkdown(rows, cells, { title }));
  return cells;
}

/**
 * Adds a section of a command's own (it starts with its `## ` heading) to results.md, after the
 * settings and ahead of the plots and per-seed rows; a section of the same heading is replaced.
 * Call writePlots after it: results.html is made from results.md there.
 */
export function addReportSection(dir: string, section: string): void {
  const path = join(dir, 'results.md');
  if (!existsSync(path)) return;
  const heading = section.match(/^## .*$/m)?.[0];
  if (!heading) throw new Error(`addReportSection: a section starts with its '## ' heading, got '${section.slice(0, 40)}'`);
  const md = removeSection(readFileSync(path, 'utf8'), heading);
  writeFileAtomic(path, insertBefore(md, ['## Plots', PER_SEED_HEADING], `${section.trim()}\n\n`));
}

/** `md` without the section under `heading` (up to the next heading of level 1 or 2). */
export function removeSection(md: string, heading: string): string {
  const at = md.indexOf(`\n${heading}\n`);
  if (at < 0) return md;
  const next = md.slice(at + heading.length + 2).search(/^#{1,2} /m);
  return next < 0 ? `${md.slice(0, at + 1)}` : `${md.slice(0, at + 1)}${md.slice(at + heading.length + 2 + next)}`;
}

/** `text` put in ahead of the first of `headings` that `md` has, else at its end. */
export function insertBefore(md: string, headings: string[], text: string): string {
  const at = Math.min(...headings.map((h) => md.indexOf(`\n${h}\n`)).filter((i) => i >= 0));
  return Number.isFinite(at) ? `${md.slice(0, at + 1)}${text}${md.slice(at + 1)}` : `${md.replace(/\n*$/, '\n\n')}${text}`;
}
