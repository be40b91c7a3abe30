import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type EfficiencyCell, type ResultRow, writeResultsFile } from '@cxr-ssl/eval';
import { describeSchedule } from '@cxr-ssl/train';
import { type ScheduleFlags, scheduleOf } from './pretext-options.ts';
import { headlineRows } from './plots.ts';
import { IDENTITY_HEAD, byEncoder, identityCells, reportMarkdown, sortRows } from './report.ts';
import { STUDY_ACCURACY } from './study.ts';

const pct = (x: number) => (100 * x).toFixed(2);

/**
 * results.md in the layout of the study's Table 1: accuracy per encoder (rows) and size (columns), and
 * each encoder's accuracy as a percentage of the ImageNet row at the same size (how the study compares
 * SSL with supervised pretraining), the published numbers beside ours, then the full metrics table.
 * A grid's encoder is labelled by its init and is one run per size, so a row gathers them.
 */
export function studyTable(allRows: ResultRow[], sizes: number[]): string {
  const rows = headlineRows(allRows);
  const encoders = [...new Map(sortRows(rows).map((r) => [r.label, r])).values()].sort(byEncoder);
  const get = (label: string, size: number) => rows.find((r) => r.label === label && r.size === size);
  const imagenet = (size: number) => rows.find((r) => r.method === 'imagenet' && r.size === size);
  const head = [...IDENTITY_HEAD, ...sizes.flatMap((s) => [`acc. ${s} px`, `% of ImageNet ${s}`, `study ${s}`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const e of encoders) {
    const cells = sizes.flatMap((s) => {
      const r = get(e.label, s);
      const ref = imagenet(s);
      const study = e.base ? undefined : STUDY_ACCURACY[e.method]?.[s];
      return [r ? pct(r.accuracy) : '–', r && ref ? ((100 * r.accuracy) / ref.accuracy).toFixed(1) : '–', study === undefined ? '–' : study.toFixed(2)];
    });
    lines.push(`| ${identityCells(e, e.pretext).join(' | ')} | ${cells.join(' | ')} |`);
  }
  const majority = sizes.flatMap((s) => {
    const r = rows.find((x) => x.size === s);
    return [r ? pct(r.majority_accuracy) : '–', '', ''];
  });
  lines.push(`| majority class |${IDENTITY_HEAD.slice(1).map(() => ' ').join('|')}| ${majority.join(' | ')} |`);
  return lines.join('\n');
}

type PretextSettings = ScheduleFlags & { epochs: number; batchSize: number; stepsPerEpoch?: number; lr?: number; momentum: number };

/**
 * reproduce's results.md: the answer and its figure first, as every report; then the study's Table 1
 * with the pretext settings, the compact table, the encoders' settings, the shortcut probes, the plots
 * and the per-seed rows.
 */
export function writeStudyReport(dir: string, rows: ResultRow[], cfg: { sizes: number[]; data: { name: string } | { name: string }[]; encoder: string; pretext?: PretextSettings }, cells: EfficiencyCell[]): void {
  const sets = Array.isArray(cfg.data) ? cfg.data : [cfg.data]; // several: pooled pretraining, evaluated on the first
  const p = cfg.pretext;
  writeResultsFile(join(dir, 'results.json'), sortRows(rows));
  const table1 = [
    "## The study's Table 1",
    '',
    "Accuracy (%) of the linear evaluation, normal vs abnormal, on the test split, in the layout of the study's Table 1.",
    '',
    studyTable(rows, cfg.sizes),
    '',
    ...(p
      ? [
          `Pretext rows: ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}${p.stepsPerEpoch ? ` of at most ${p.stepsPerEpoch} steps` : ''}, batch ${p.batchSize}, SGD lr ${p.lr ?? "each method's default (the encoders' settings below)"}, momentum ${p.momentum}, lr schedule ${describeSchedule(scheduleOf(p))}.`,
          '',
        ]
      : []),
  ];
  const md = reportMarkdown(rows, cells, { title: `Reproduction on ${sets[0].name} (${cfg.encoder})${sets.length > 1 ? `, pretrained on ${sets.map((d) => d.name).join(' + ')}` : ''}`, afterAnswer: table1, sections: shortcutSection(join(dir, 'runs')) });
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
