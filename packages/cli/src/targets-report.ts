import { type EfficiencyCell, type OperatingPoint, REFERENCE_LABELS, REFERENCE_METHODS, type ResultRow } from '@cxr-ssl/eval';
import type { TopLevelSpec } from 'vega-lite';
import { type ColourScale, encoderColours, legendValues } from './encoder-colours.ts';
import { byEncoder, ciText, fractionLabel, points, signedPoints } from './report-format.ts';

/**
 * The report's sections for what a row predicts beyond one AUC: each class or finding (its AUC, its
 * paired differences), the operating points and calibration of each output, and the reliability
 * diagram. Each is a function of its own, so that the report's layout can place them.
 */

const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** What the rows predict, for the report's opening line: "Normal vs abnormal", "Classes (normal, bacteria, virus)", "Findings (…)". */
export function targetText(rows: ResultRow[]): string {
  const targets = [...new Set(rows.map((r) => r.target ?? 'abnormal'))].sort();
  return targets
    .map((t) => {
      if (t === 'abnormal') return 'Normal vs abnormal';
      const names = rows.find((r) => (r.target ?? 'abnormal') === t)?.outputs?.map((o) => o.name) ?? [];
      return `${t === 'classes' ? 'Classes' : 'Findings'}${names.length ? ` (${names.join(', ')})` : ''}`;
    })
    .join('; ');
}

/** A note for the AUC tables when a row predicts classes or findings: what its accuracy and AUC are. */
export function targetNote(xs: { target?: string }[]): string[] {
  const targets = new Set(xs.map((r) => r.target ?? 'abnormal'));
  const lines: string[] = [];
  if (targets.has('classes')) lines.push('Rows of `--target classes`: accuracy is top-1, AUC the mean (macro) of the classes\' one-vs-rest AUCs, sensitivity / specificity / balanced accuracy the means over classes at the top-1 decision.');
  if (targets.has('findings')) lines.push("Rows of `--target findings`: accuracy is per (image, finding) at 0.5, AUC the mean (macro) of the findings' AUCs, sensitivity / specificity the means over findings at 0.5.");
  return lines.length ? [lines.join(' '), ''] : [];
}

/**
 * Per class (one-vs-rest) or per finding: for each (data, size, protocol, target) and label fraction, a
 * table of encoders x outputs, each cell the output's AUC (mean ± sd over seeds, 95 % CI) and its
 * seed-averaged paired difference to random init and ImageNet; the macro mean last.
 */
export function outputsMarkdown(cells: EfficiencyCell[]): string[] {
  const several = cells.filter((c) => c.outputs);
  if (several.length === 0) return [];
  const out = [
    '## Per class and per finding',
    '',
    "AUC (%) of each output on the test split (a class one-vs-rest, or a finding), mean ± sd over seeds with its 95 % bootstrap CI; Δ: the seed-averaged paired difference of that output's AUC to random init (R), random init BN-recalibrated (RB) and ImageNet (I), 95 % CI over the test images. n+: test images positive for it. Macro: the mean of the outputs' AUCs (an output without a positive test image is left out).",
    '',
  ];
  const key = (c: EfficiencyCell) => `${c.data}|${c.size}|${c.protocol}|${c.target}|${c.fraction}`;
  for (const k of [...new Set(several.map(key))]) {
    const these = several.filter((c) => key(c) === k).sort(byEncoder);
    const c0 = these[0];
    const names = c0.outputs!.map((o) => `${o.name} (n+ ${o.n_pos})`);
    out.push(`### ${c0.target}, ${c0.protocol}, ${fractionLabel(c0.fraction)} labels, ${c0.data} at ${c0.size} px`, '', `| encoder | ${names.join(' | ')} | macro |`, `|---|${names.map(() => '---').join('|')}|---|`);
    for (const c of these) {
      const seeds = c.seeds.length;
      const cell = (o: NonNullable<EfficiencyCell['outputs']>[number]) => {
        if (!o.auc) return '–';
        const vs = REFERENCE_METHODS.filter((r) => o.vs[r]).map((r) => `Δ${REFERENCE_LABELS[r]} ${signedPoints(o.vs[r].mean)}${ciText(o.vs[r].ci)}`);
        return [`${points(o.auc.mean)}${seeds > 1 ? ` ± ${points(o.auc.sd)}` : ''}${ciText(o.auc.ci)}`, ...vs].join('<br>');
      };
      const macroVs = REFERENCE_METHODS.filter((r) => c.vs[r]).map((r) => `Δ${REFERENCE_LABELS[r]} ${signedPoints(c.vs[r].auc.mean)}${ciText(c.vs[r].auc.ci)}`);
      const macro = [`${points(c.auc.mean)}${seeds > 1 ? ` ± ${points(c.auc.sd)}` : ''}${ciText(c.auc.ci)}`, ...macroVs].join('<br>');
      out.push(`| ${c.label} | ${c.outputs!.map(cell).join(' | ')} | ${macro} |`);
    }
    out.push('');
  }
  return out;
}

const POINTS: { fixed: OperatingPoint['fixed']; level: number; head: string; shows: 'sensitivity' | 'specificity' }[] = [
  { fixed: 'specificity', level: 0.9, head: 'sens. @ 90 % spec.', shows: 'sensitivity' },
  { fixed: 'specificity', level: 0.95, head: 'sens. @ 95 % spec.', shows: 'sensitivity' },
  { fixed: 'sensitivity', level: 0.9, head: 'spec. @ 90 % sens.', shows: 'specificity' },
  { fixed: 'sensitivity', level: 0.95, head: 'spec. @ 95 % sens.', shows: 'specificity' },
];

/**
 * Operating points and calibration: per encoder, protocol, label fraction and output, the test
 * sensitivity at the threshold that gave 90 % / 95 % specificity on the val split (and the reverse),
 * with the rate actually reached on test beside it, and the expected calibration error; the mean over
 * seeds (one seed: with its 95 % CI).
 */
export function operatingPointsMarkdown(rows: ResultRow[]): string[] {
  const scored = rows.filter((r) => r.outputs?.some((o) => o.operating || o.ece !== undefined));
  if (scored.length === 0) return [];
  // a binary run (normal vs abnormal) has one output: no column to name it
  const named = scored.some((r) => (r.target ?? 'abnormal') !== 'abnormal' || (r.outputs?.length ?? 0) > 1);
  const out = [
    '## Operating points and calibration',
    '',
    'Thresholds a clinic can use: each is chosen on the validation split (the lowest threshold whose specificity reaches 90 % / 95 % there, or the highest whose sensitivity does) and applied to the test split, which reports the other rate (in brackets: the fixed rate reached on test, then the 95 % CI). ECE: expected calibration error of the output\'s probability on test (10 equal-width bins; 0 is calibrated), shown in the reliability diagram. Mean over seeds.',
    '',
    `| encoder | protocol | labels | ${named ? 'output | ' : ''}${POINTS.map((p) => p.head).join(' | ')} | ECE | seeds |`,
    `|---|---|---|${named ? '---|' : ''}${POINTS.map(() => '---').join('|')}|---|---|`,
  ];
  const key = (r: ResultRow) => `${r.data}|${r.size}|${r.protocol}|${r.target ?? 'abnormal'}|${r.fraction}|${r.label}`;
  const groups = [...new Set(scored.map(key))].map((k) => scored.filter((r) => key(r) === k));
  groups.sort((a, b) => a[0].size - b[0].size || a[0].protocol.localeCompare(b[0].protocol) || b[0].fraction - a[0].fraction || byEncoder(a[0], b[0]));
  for (const g of groups) {
    const r0 = g[0];
    r0.outputs!.forEach((o, k) => {
      const cells = POINTS.map((p) => {
        const at = g.map((r) => r.outputs?.[k].operating?.find((x) => x.fixed === p.fixed && x.level === p.level)).filter((x) => x !== undefined);
        if (at.length === 0) return '–';
        const other = p.shows === 'sensitivity' ? 'specificity' : 'sensitivity';
        const reached = `${p.fixed === 'specificity' ? 'spec.' : 'sens.'} ${points(meanOf(at.map((x) => x[other])))}`;
        return `${points(meanOf(at.map((x) => x[p.shows])))} (${reached}${at.length === 1 ? `;${ciText(at[0].ci[p.shows])}` : ''})`;
      });
      const ece = g.map((r) => r.outputs?.[k].ece).filter((x) => x !== undefined);
      out.push(`| ${r0.label} | ${r0.protocol} | ${fractionLabel(r0.fraction)} | ${named ? `${o.name} | ` : ''}${cells.join(' | ')} | ${ece.length ? points(meanOf(ece)) : '–'} | ${g.length} |`);
    });
  }
  out.push('');
  return out;
}

/** The reliability diagram of the headline rows: mean prediction against the share positive per bin, a line per encoder, a panel per output, the diagonal as calibrated. */
export function reliabilitySpec(rows: ResultRow[], title: string, colour: ColourScale = encoderColours(rows)): TopLevelSpec {
  const values = rows.flatMap((r) => (r.outputs ?? []).flatMap((o) => (o.reliability ?? []).map((b) => ({ encoder: r.label, output: o.name, predicted: b.predicted, observed: b.observed, n: b.n }))));
  const axis = (field: string, t: string) => ({ field, type: 'quantitative' as const, title: t, scale: { domain: [0, 1] }, axis: { format: '.1f' } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Reliability on the test split: ${title} (dashed: calibrated)`,
    data: { values },
    facet: { column: { field: 'output', type: 'nominal', title: null } },
    spec: {
      width: 200,
      height: 200,
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: 'grey' }, encoding: { x: { datum: 0 }, y: { datum: 0 }, x2: { datum: 1 }, y2: { datum: 1 } } },
        { mark: { type: 'line', point: true }, encoding: { x: axis('predicted', 'mean predicted probability'), y: axis('observed', 'share positive'), color: { field: 'encoder', type: 'nominal', scale: colour, title: 'encoder', legend: { values: legendValues(colour, rows.map((r) => r.label)) } } } },
      ],
    },
  };
}
