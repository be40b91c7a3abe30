import { type EfficiencyCell, REFERENCE_METHODS, type SeedSummary, isReference } from '@cxr-ssl/eval';
import { byPanel, ciText, encodersOf, fractionLabel, panelOf, signedPoints } from './report-format.ts';

/** How the report names a reference encoder (by method) in a sentence. */
const REFERENCE_NAMES: Record<string, string> = { random: 'random init', 'random-bn': 'random init (BN recalibrated)', imagenet: 'ImageNet' };

type Verdict = 'beats' | 'loses' | 'ties';
/** Beats or loses only when the paired 95 % CI of the seed-averaged AUC difference leaves 0 out. */
export const verdictOf = (d: SeedSummary): Verdict => (d.ci[0] > 0 ? 'beats' : d.ci[1] < 0 ? 'loses' : 'ties');

/** One comparison: an encoder's AUC difference to another (a reference, or the encoder it varies), per protocol panel and fraction. */
interface Comparison {
  label: string;
  other: string;
  diffs: { panel: string; fraction: number; auc: SeedSummary }[];
}

/**
 * The comparisons the answer makes: every encoder against each reference it was paired with (random,
 * random-bn, ImageNet), a reference only against those below it in that order (ImageNet vs random, not
 * the mirror), and a variant against the encoder it varies.
 */
export function comparisons(cells: EfficiencyCell[]): Comparison[] {
  const panel = panelOf(cells);
  const out: Comparison[] = [];
  for (const e of encodersOf(cells)) {
    const mine = cells.filter((c) => c.label === e.label).sort(byPanel);
    const rank = REFERENCE_METHODS.indexOf(e.method);
    for (const ref of REFERENCE_METHODS) {
      if (isReference(e) && REFERENCE_METHODS.indexOf(ref) >= rank) continue;
      const diffs = mine.flatMap((c) => (c.vs[ref] ? [{ panel: panel(c), fraction: c.fraction, auc: c.vs[ref].auc }] : []));
      if (diffs.length > 0) out.push({ label: e.label, other: REFERENCE_NAMES[ref] ?? ref, diffs });
    }
    const base = mine.flatMap((c) => (c.base ? [{ panel: panel(c), fraction: c.fraction, auc: c.base.auc }] : []));
    if (base.length > 0) out.push({ label: e.label, other: mine.find((c) => c.base)!.base!.label, diffs: base });
  }
  return out;
}

const listText = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

/**
 * One sentence per comparison, strongest finding first: "dino-a beats ImageNet at 10 % of labels, linear
 * +10.9 AUC [3.1, 19.4]; ties at 1 % and 100 %; ties at every label fraction, knn." Per protocol panel,
 * fractions are grouped by verdict (beats, loses, ties); a group of one fraction gives its difference and
 * CI, a larger one the range of its differences; ties give no figure unless the panel has one fraction.
 */
export function comparisonSentence(c: Comparison): string {
  const clauses: string[] = [];
  let named = false; // the other encoder and the unit are said once, in the first clause
  const panels = [...new Set(c.diffs.map((d) => d.panel))].map((panel) => c.diffs.filter((d) => d.panel === panel).sort((a, b) => a.fraction - b.fraction));
  // panels where it ties at every one of several fractions say so together, after the findings
  const tiesEverywhere = (here: typeof c.diffs) => here.length > 1 && here.every((d) => verdictOf(d.auc) === 'ties');
  for (const here of panels.filter((h) => !tiesEverywhere(h))) {
    const groups = (['beats', 'loses', 'ties'] as const).map((v) => [v, here.filter((d) => verdictOf(d.auc) === v)] as const).filter(([, g]) => g.length > 0);
    groups.forEach(([verdict, group], j) => {
      const at = group.length === here.length && here.length > 1 ? 'at every label fraction' : `at ${listText(group.map((d) => fractionLabel(d.fraction, '\u00a0')))}${named ? '' : ' of labels'}`;
      const unit = named ? '' : ' AUC';
      const diffs = group.map((d) => d.auc.mean).sort((a, b) => a - b);
      const figure =
        verdict === 'ties' && here.length > 1 ? '' : group.length === 1 ? ` ${signedPoints(diffs[0])}${unit}${ciText(group[0].auc.ci)}` : ` ${signedPoints(diffs[0])} to ${signedPoints(diffs.at(-1)!)}${unit}`;
      clauses.push(`${verbText(verdict, c.other, named)} ${at}${j === 0 ? `, ${here[0].panel}` : ''}${figure}`);
      named = true;
    });
  }
  const ties = panels.filter(tiesEverywhere).map((h) => h[0].panel);
  if (ties.length > 0) clauses.push(`${verbText('ties', c.other, named)} at every label fraction, ${listText(ties)}`);
  return `**${c.label}** ${clauses.join('; ')}.`;
}

const verbText = (v: Verdict, other: string, named: boolean) => (named ? v : { beats: `beats ${other}`, loses: `loses to ${other}`, ties: `ties with ${other}` }[v]);

/** The report's opening: one sentence per comparison, or what to add to get one. */
export function answerMarkdown(cells: EfficiencyCell[]): string[] {
  const found = comparisons(cells);
  if (found.length === 0) {
    return ['No encoder was evaluated beside a reference (random, random-bn, imagenet) to compare it with: add one to `--encoders` (e.g. `--encoders <run>,random`) for paired differences.'];
  }
  return [
    ...found.map((c) => `- ${comparisonSentence(c)}`),
    '',
    'Beats / loses: the paired bootstrap 95 % CI of the AUC difference (averaged over seeds, on the same test images) lies above / below 0; ties: it holds 0. AUC in points (0–100).',
  ];
}
