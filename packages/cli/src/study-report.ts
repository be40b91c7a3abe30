import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type EfficiencyCell, type ResultRow, writeResultsFile } from '@cxr-ssl/eval';
import { describeSchedule } from '@cxr-ssl/train';
import { type ScheduleFlags, scheduleOf } from './pretext-options.ts';
import { headlineRows } from './plots.ts';
import { labelEfficiencyMarkdown, resultsMarkdown, sortRows } from './report.ts';
import { INIT_ORDER, STUDY_ACCURACY } from './study.ts';

const pct = (x: number) => (100 * x).toFixed(2);

/**
 * results.md in the layout of the study's Table 1: accuracy per init (rows) and size (columns), and
 * each init's accuracy as a percentage of the ImageNet row at the same size (how the study compares
 * SSL with supervised pretraining), the published numbers beside ours, then the full metrics table.
 */
export function studyTable(allRows: ResultRow[], sizes: number[]): string {
  const rows = headlineRows(allRows);
  const inits = [...new Set(sortRows(rows).map((r) => r.init))].sort((a, b) => rank(a) - rank(b));
  const get = (init: string, size: number) => rows.find((r) => r.init === init && r.size === size);
  const head = ['init', 'encoder', ...sizes.flatMap((s) => [`acc. ${s} px`, `% of ImageNet ${s}`, `study ${s}`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const init of inits) {
    const cells = sizes.flatMap((s) => {
      const r = get(init, s);
      const ref = get('imagenet', s);
      const study = STUDY_ACCURACY[init]?.[s];
      return [r ? pct(r.accuracy) : '–', r && ref ? ((100 * r.accuracy) / ref.accuracy).toFixed(1) : '–', study === undefined ? '–' : study.toFixed(2)];
    });
    lines.push(`| ${init} | ${rows.find((r) => r.init === init && r.encoder)?.encoder ?? '–'} | ${cells.join(' | ')} |`);
  }
  const majority = sizes.flatMap((s) => {
    const r = rows.find((x) => x.size === s);
    return [r ? pct(r.majority_accuracy) : '–', '', ''];
  });
  lines.push(`| majority class | | ${majority.join(' | ')} |`);
  return lines.join('\n');
}

function rank(init: string): number {
  const i = INIT_ORDER.indexOf(init);
  return i < 0 ? INIT_ORDER.length : i;
}

type PretextSettings = ScheduleFlags & { epochs: number; batchSize: number; stepsPerEpoch?: number; momentum: number };

export function writeStudyReport(dir: string, rows: ResultRow[], cfg: { sizes: number[]; data: { name: string }; encoder: string; pretext?: PretextSettings }, cells: EfficiencyCell[]): void {
  const p = cfg.pretext;
  writeResultsFile(join(dir, 'results.json'), sortRows(rows));
  const md = [
    `# Reproduction on ${cfg.data.name} (${cfg.encoder})`,
    '',
    "Accuracy (%) of the linear evaluation, normal vs abnormal, on the test split, in the layout of the study's Table 1.",
    '',
    studyTable(rows, cfg.sizes),
    '',
    ...(p
      ? [
          `Pretext rows: ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}${p.stepsPerEpoch ? ` of at most ${p.stepsPerEpoch} steps` : ''}, batch ${p.batchSize}, SGD lr ${p.lr}, momentum ${p.momentum}, lr schedule ${describeSchedule(scheduleOf(p))}.`,
          '',
        ]
      : []),
    'Plots: pretext-curves.svg/png, linear-eval.svg/png (with 95% CIs), roc.svg/png, label-efficiency.svg/png (when there are label fractions).',
    '',
    ...shortcutSection(join(dir, 'runs')),
    labelEfficiencyMarkdown(cells),
    resultsMarkdown(rows, 'All metrics').replace(/^# /, '## '),
  ].join('\n');
  writeFileAtomic(join(dir, 'results.md'), md);
}

/** The shortcut probe of each pretext run that has one (tools/probe/shortcut.ts --run writes shortcut.json). */
function shortcutSection(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  const found = readdirSync(runsDir)
    .sort()
    .filter((run) => existsSync(join(runsDir, run, 'shortcut.json')))
    .map((run) => ({ run, ...(JSON.parse(readFileSync(join(runsDir, run, 'shortcut.json'), 'utf8')) as ShortcutProbe) }));
  if (found.length === 0) return [];
  const p = (x: number | undefined) => (x === undefined ? '–' : (100 * x).toFixed(1));
  return [
    '## Shortcuts',
    '',
    "How much of each pretext run's held-out accuracy a trivial probe gets from 10 numbers per view (mean, sd, edge strips, corner blocks: no texture or shape), by nearest centroid (`tools/probe/shortcut.ts --run`). Share = (probe − chance) / (run − chance).",
    '',
    '| run | held-out accuracy | probe | chance | share |',
    '|---|---|---|---|---|',
    ...found.map((s) => `| ${s.run} | ${p(s.runAccuracy)} | ${p(s.probeAccuracy)} | ${p(s.chance)} | ${s.share === undefined ? '–' : `${(100 * s.share).toFixed(0)}%`} |`),
    '',
  ];
}

interface ShortcutProbe {
  probeAccuracy: number;
  runAccuracy?: number;
  chance: number;
  share?: number;
}
