import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { heldOutHistory, MetricsLog, type PhaseSeconds, runWarnings } from '@cxr-ssl/train';

/** What a pretext run folder says about whether it learned (metrics.jsonl) and where its time went. */
export interface PretextSummary {
  run: string;
  task: string;
  steps: number;
  /** mean train loss of the first and the last epoch */
  firstLoss?: number;
  lastLoss?: number;
  valAccuracy?: number;
  valChance?: number;
  valSpread?: number;
  valRank?: number;
  /** warnings whose sign was still there at the last held-out pass */
  warnings: string[];
  /** warnings whose sign went later, each followed by the note that says so */
  cleared: string[];
  seconds?: PhaseSeconds;
}

export function pretextSummary(runDir: string): PretextSummary {
  const lines = new MetricsLog(join(runDir, 'metrics.jsonl')).read();
  const epochs = lines.filter((l) => l.kind === 'epoch');
  const last = heldOutHistory(runDir).at(-1);
  const timing = lines.filter((l) => l.kind === 'timing').at(-1);
  const { task } = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { task: string };
  return {
    run: basename(runDir),
    task,
    steps: lines.at(-1)?.step ?? 0,
    firstLoss: epochs[0]?.loss as number | undefined,
    lastLoss: epochs.at(-1)?.loss as number | undefined,
    valAccuracy: last?.valAccuracy,
    valChance: last?.valChance,
    valSpread: last?.valSpread,
    valRank: last?.valRank,
    ...(({ active, cleared }) => ({ warnings: active, cleared }))(runWarnings(lines)),
    seconds: timing ? { init: Number(timing.init), steps: Number(timing.steps), heldOut: Number(timing.heldOut), checkpoints: Number(timing.checkpoints), export: Number(timing.export) } : undefined,
  };
}

const num = (x: number | undefined, digits: number) => (x === undefined ? '–' : x.toFixed(digits));

/** The issue-33 table: does each method learn, and has it collapsed? */
export function pretextSummaryMarkdown(summaries: PretextSummary[]): string {
  const rows = summaries.map((s) =>
    [
      s.task,
      s.steps,
      `${num(s.firstLoss, 3)} → ${num(s.lastLoss, 3)}`,
      `${num(s.valAccuracy, 3)} (${num(s.valChance, 3)})`,
      `${num(s.valSpread, 2)} / ${num(s.valRank, 1)}`,
      [...s.warnings, ...s.cleared.map((c) => `(gone) ${c}`)].map((w) => w.replaceAll('|', '/')).join('<br>') || 'none',
    ].join(' | '),
  );
  return [
    '## Pretext training',
    '',
    "Each run's train loss (mean of its first and last epoch), its last held-out pass (the method's own top-1 on images it never trained on, chance in brackets) and that pass's collapse measure: the spread of the L2-normalised embeddings × √dim (about 1 healthy, 0 collapsed) and their effective rank. Curves: pretext-curves.png.",
    '',
    '| method | steps | train loss first → last | held-out top-1 (chance) | spread / rank | warnings (gone: reported, then left behind) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
    '',
  ].join('\n');
}

/** Where each run's time went (its metrics.jsonl timing line), beside the demo's other phases. */
export function timeMarkdown(summaries: PretextSummary[], other: Record<string, number>, cpu?: number): string {
  const total = Object.values(other).reduce((a, b) => a + b, 0);
  const rows = summaries.map((s) => {
    const t = s.seconds;
    return `| ${s.task} | ${t ? [t.init, t.steps, t.heldOut, t.checkpoints, t.export].map((x) => x.toFixed(1)).join(' | ') : '– | – | – | – | –'} | ${((other[s.run] ?? 0)).toFixed(1)} |`;
  });
  return [
    '## Time',
    '',
    `Wall seconds${cpu === undefined ? '' : `; CPU ${cpu.toFixed(0)} s (user + sys, this process and its engines)`}. Each run: engine start, training steps, held-out passes, checkpoints (writing, and waiting for one), encoder export; the last column is the run's whole wall time in the demo.`,
    '',
    '| run | engine start | steps | held-out | checkpoints | export | run total |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    Object.entries(other)
      .filter(([k]) => !summaries.some((s) => s.run === k))
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ') + `; total ${total.toFixed(0)} s.`,
    '',
  ].join('\n');
}
